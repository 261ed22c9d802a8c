#!/usr/bin/env bash
# The GPU measurements of benches/RESULTS.md, in one script that prints a
# short table last. Run from the repository root:
#
#   benches/gpu/run.sh BIN_DIR OUT_DIR [SMOLLM2_GGUF]
#
# BIN_DIR holds release builds of `kiln`, the `gpu_gemv` example and the
# `smollm2_gpu` test (benches/gpu/build.sh makes them); OUT_DIR receives a
# JSON file per measurement. SMOLLM2_GGUF, when given, adds the real model:
# the GPU-vs-CPU token test at 32 tokens and its pp/tg. Environment:
# KILN_BANDWIDTH_GBS (default: the buffer-copy bandwidth measured first),
# KILN_PP (default 512) and KILN_TG (default 128) tokens, KILN_SHAPES
# (default "llama-3.2-1b llama-2-7b"; empty for none), KILN_DTYPES (default
# "q4_0 f16").
set -u
BIN=$1
OUT=$2
MODEL=${3:-}
BW=${KILN_BANDWIDTH_GBS:-$("$1/gpu_gemv" copy)}
PP=${KILN_PP:-512}
TG=${KILN_TG:-128}
mkdir -p "$OUT"
export RUST_BACKTRACE=0

echo "== devices; copy bandwidth $BW GB/s"
"$BIN/kiln" devices --json | tee "$OUT/devices.json"

echo "== GEMV kernels (default knobs, then a sweep)"
timeout 300 "$BIN/gpu_gemv" 0 576 1536 2048 8192 4096 4096 4096 11008 2>&1 | tee "$OUT/gemv.txt"
KILN_GEMV_KNOBS=64x1,32x2,16x4,8x8,4x16,1x64 timeout 300 "$BIN/gpu_gemv" 0 4096 4096 2>&1 | tee "$OUT/gemv_knobs.txt"

bench() { # name, then kiln bench arguments
    local name=$1
    shift
    echo "== $name"
    timeout "${KILN_BENCH_TIMEOUT:-540}" "$BIN/kiln" bench "$@" --bandwidth "$BW" --json >"$OUT/$name.json" 2>"$OUT/$name.log"
    local rc=$?
    tail -14 "$OUT/$name.log"
    [ $rc -eq 0 ] && cat "$OUT/$name.json" || echo "{\"error\": \"exit $rc\", \"name\": \"$name\"}" >"$OUT/$name.json"
}

if [ -n "$MODEL" ]; then
    echo "== SmolLM2: GPU tokens against the CPU backend's, 32 per golden prompt"
    KILN_GPU_TOKENS=32 timeout 540 "$BIN/smollm2_gpu" --test-threads 1 --nocapture 2>&1 | tail -15 | tee "$OUT/smollm2_gpu_test.txt"
    bench smollm2-gpu --model "$MODEL" --device gpu --prompt-tokens "$PP" --gen-tokens "$TG" --profile
    bench smollm2-cpu --model "$MODEL" --device cpu --prompt-tokens "$PP" --gen-tokens "$TG"
fi
for shape in ${KILN_SHAPES-llama-3.2-1b llama-2-7b}; do
    for dtype in ${KILN_DTYPES-q4_0 f16}; do
        bench "$shape-$dtype" --model "random:$shape:$dtype" --device gpu --prompt-tokens "$PP" --gen-tokens "$TG" --profile
    done
done

echo "== table"
python3 - "$OUT" <<'PY'
import json, pathlib, sys
rows = []
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.json")):
    if f.name == "devices.json":
        continue
    r = json.loads(f.read_text())
    if "error" in r:
        rows.append(f"{f.stem:22} failed ({r['error']})")
        continue
    frac = r.get("tg_fraction_of_limit")
    rows.append(f"{f.stem:22} {r['device']:6} pp{r['pp']['tokens']} {r['pp']['tokens_per_s']:9.1f}  tg{r['tg']['tokens']} {r['tg']['tokens_per_s']:8.1f}  limit {r['tg_limit_tokens_per_s'] or 0:8.1f}  {100 * (frac or 0):5.1f}%  {r['weight_bytes_per_token'] / 1e6:8.1f} MB/token")
print("\n".join(rows))
PY
