#!/usr/bin/env bash
# kiln serve under load: the same 32 streaming clients x 64 tokens against
# a server that decodes each sequence alone (--max-batch 1) and one that
# batches (--max-batch 32; KILN_BATCHES="1 8 32" picks the list), after a
# serial run whose replies every later reply must equal. Prints a table last.
# KILN_SERVE_FLAGS adds flags to the batched servers (e.g. a small
# --kv-cache-tokens, so sequences are evicted and replayed).
#   benches/serve/compare.sh KILN_BINARY DEVICE [MODEL] [CLIENTS] [TOKENS]
set -euo pipefail
kiln=$1 device=$2 model=${3:-smollm2-135m} clients=${4:-32} tokens=${5:-64}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
port=18231
serve() { # args: label, extra flags
    local label=$1; shift
    "$kiln" serve --model "$model" --device "$device" --port $port --id m "$@" > "$out/$label.url" 2> "$out/$label.log" &
    pid=$!
    for _ in $(seq 1 1200); do
        kill -0 "$pid" 2> /dev/null || { echo "kiln serve ($label) stopped:" >&2; cat "$out/$label.log" >&2; exit 1; }
        python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/health')" 2> /dev/null && return; sleep 0.5; done
    cat "$out/$label.log" >&2; exit 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; }
serve serial --max-concurrent 1
python3 "$here/load.py" --url http://127.0.0.1:$port --model m --clients 8 --tokens "$tokens" --save "$out/expected.json" --label serial 2>> "$out/table"
stop
for batch in ${KILN_BATCHES:-1 $clients}; do
    # shellcheck disable=SC2086
    serve "batch$batch" --max-concurrent "$clients" --max-batch "$batch" ${KILN_SERVE_FLAGS:-}
    python3 "$here/load.py" --url http://127.0.0.1:$port --model m --clients "$clients" --tokens "$tokens" --expect "$out/expected.json" --label "max-batch $batch" 2>> "$out/table" | tee -a "$out/results.jsonl"
    grep "compiled for" "$out/batch$batch.log" >&2 || true
    stop
done
cat "$out/table"
