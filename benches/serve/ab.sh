#!/usr/bin/env bash
# Two kiln builds under the same serve load on one machine start
# (compare.sh for each: serial reference, --max-batch 1 and --max-batch
# CLIENTS), then the second build again with a KV cache far too small for
# every sequence at once (--kv-cache-tokens 1024: sequences are evicted and
# replayed, and every reply must still equal the serial run's), and one
# `kiln bench` stream of each. Tables last.
#   benches/serve/ab.sh OLD_KILN NEW_KILN DEVICE [MODEL] [CLIENTS] [TOKENS]
set -euo pipefail
old=$1 new=$2 device=$3 model=${4:-smollm2-135m} clients=${5:-32} tokens=${6:-64}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
for which in old new; do
    bin=${!which}
    "$here/compare.sh" "$bin" "$device" "$model" "$clients" "$tokens" > "$out/$which.log" 2>&1 || { cat "$out/$which.log"; exit 1; }
    "$bin" bench --model "$model" --device "$device" --prompt-tokens 32 --gen-tokens 128 > "$out/$which.bench" 2>&1 || true
done
KILN_SERVE_FLAGS="--kv-cache-tokens 1024" KILN_BATCHES="$clients" "$here/compare.sh" "$new" "$device" "$model" "$clients" "$tokens" > "$out/evict.log" 2>&1 || { cat "$out/evict.log"; exit 1; }
for which in old new evict; do
    echo "== $which"
    grep -E "\| alone" "$out/$which.log" || tail -5 "$out/$which.log"
    if [ -f "$out/$which.bench" ]; then grep -E "tg128|pp" "$out/$which.bench" | tail -3; fi
done
