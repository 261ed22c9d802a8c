#!/usr/bin/env bash
# Issue 6's GPU measurements in one script that prints a short table last:
# `kiln autotune` of the GEMV and GEMM kernels of a model (real SmolLM2
# when its GGUF is given, and random-weight Llama-2-7B-shape Q4_0 weights),
# then `kiln generate` twice with the records (the second reads them, does
# not tune), and `kiln bench` tg with and without them, alternated. Run
# from the repository root:
#
#   benches/gpu/autotune.sh BIN_DIR OUT_DIR [SMOLLM2_GGUF]
#
# BIN_DIR holds a release `kiln` (benches/gpu/build.sh). Environment:
# KILN_TRIALS (default 48), KILN_SHAPES (default "llama-2-7b"),
# KILN_BANDWIDTH_GBS (default: kiln's 1 GiB buffer copy, measured by
# `kiln autotune`).
set -u
BIN=$1
OUT=$2
MODEL=${3:-}
TRIALS=${KILN_TRIALS:-48}
SHAPES=${KILN_SHAPES-llama-2-7b}
DB=$OUT/tuning.db
mkdir -p "$OUT"
export RUST_BACKTRACE=0
BWARG=()
[ -n "${KILN_BANDWIDTH_GBS:-}" ] && BWARG=(--bandwidth "$KILN_BANDWIDTH_GBS")

tune() { # name, then the model
    echo "== autotune $1"
    timeout 540 "$BIN/kiln" autotune --device gpu --model "$2" --trials "$TRIALS" --seq 128 --db "$DB" --plot "$OUT/$1.svg" "${BWARG[@]}" --json >"$OUT/tune_$1.json" 2>"$OUT/tune_$1.log"
    echo "exit $?"
    grep -v '^\s*$' "$OUT/tune_$1.log" | tail -14
}
[ -n "$MODEL" ] && tune smollm2 "$MODEL"
for s in $SHAPES; do tune "$s" "random:$s:q4_0"; done

# the same GEMV alone in a fresh process, default knobs against two tuned
# ones (gpu_gemv: invocations per row x rows per workgroup x vector width)
echo "== gpu_gemv 4096 x 22016, default 64x1x8 against 8x4x8 and 128x1x8"
[ -x "$BIN/gpu_gemv" ] && KILN_GEMV_NO_COPIES=1 KILN_GEMV_KNOBS=64x1x8,8x4x8,128x1x8,64x1x8 timeout 120 "$BIN/gpu_gemv" 0 4096 22016 2>&1 | grep -i "q4_0\|K " | tee "$OUT/gemv_knobs.txt"

if [ -n "$MODEL" ]; then
    for run in first second; do
        echo "== generate ($run run with the records)"
        timeout 300 "$BIN/kiln" generate --model "$MODEL" --device gpu --prompt "The capital of France is" --max-tokens 32 --temperature 0 --db "$DB" --json >"$OUT/generate_$run.json" 2>"$OUT/generate_$run.log"
        cat "$OUT/generate_$run.log" "$OUT/generate_$run.json"
    done
    timeout 300 "$BIN/kiln" generate --model "$MODEL" --device gpu --prompt "The capital of France is" --max-tokens 32 --temperature 0 --json >"$OUT/generate_default.json" 2>/dev/null
    # decode speed with and without the records, alternated
    for round in 1 2 3; do
        for with in default tuned; do
            extra=()
            [ $with = tuned ] && extra=(--db "$DB")
            timeout 120 "$BIN/kiln" bench --model "$MODEL" --device gpu --prompt-tokens 128 --gen-tokens 64 "${extra[@]}" --json >"$OUT/bench_smollm2_${with}_$round.json" 2>/dev/null
        done
    done
fi

# tg with and without the records (alternated rounds: KILN_ROUNDS, default
# 1; writing a 7B model's random weights takes a while each time)
for s in ${SHAPES}; do
    for round in $(seq 1 "${KILN_ROUNDS:-1}"); do
        for with in default tuned; do
            extra=()
            [ $with = tuned ] && extra=(--db "$DB")
            timeout 300 "$BIN/kiln" bench --model "random:$s:q4_0" --device gpu --prompt-tokens 512 --gen-tokens 64 "${extra[@]}" --json >"$OUT/bench_${s}_${with}_$round.json" 2>"$OUT/bench_${s}_${with}_$round.log"
        done
    done
done

python3 - "$OUT" <<'PY'
import glob, json, os, statistics, sys
out = sys.argv[1]
print("\n== tuned kernels (median of repeats; roof = bytes read and written over the copy bandwidth)")
print(f"{'model':10} {'class':5} {'workload':50} {'default us':>10} {'tuned us':>9} {'x':>5} {'GB/s':>7} {'roof':>5}  schedule")
for f in sorted(glob.glob(f"{out}/tune_*.json")):
    name = os.path.basename(f)[5:-5]
    try:
        t = json.load(open(f))
    except Exception as e:
        print(name, "no result:", e); continue
    for w in t["workloads"]:
        roof = w["roof_fraction"]
        print(f"{name:10} {w['class']:5} {w['description'][:50]:50} {w['default_s']*1e6:10.1f} {w['tuned_s']*1e6:9.1f} {w['speedup']:5.2f} {w['gb_per_s']:7.0f} {100*roof if roof else 0:4.0f}%  {json.dumps(w['schedule'])}")
    print(f"  bandwidth {t['bandwidth_gbs']:.0f} GB/s, {t['device_name']}")
g = {}
for run in ["first", "second", "default"]:
    try: g[run] = json.load(open(f"{out}/generate_{run}.json"))
    except Exception: pass
if g:
    print("\n== generate: tuned kernels / compiled, tg tokens/s, same tokens as the default schedules")
    for run, v in g.items():
        print(f"{run:8} {v.get('tuned_kernels')}/{v.get('kernels_compiled')}  tg {v['decode_tokens_per_s']:.1f}  same tokens: {v['tokens'] == g.get('default', {}).get('tokens')}")
print("\n== bench tg64 tokens/s (alternated rounds)")
for f in sorted(glob.glob(f"{out}/bench_*_1.json")):
    base = f[:-7]
    vals = []
    for r in range(1, 10):
        if not os.path.exists(f"{base}_{r}.json"): break
        try: vals.append(json.load(open(f"{base}_{r}.json"))["tg"]["tokens_per_s"])
        except Exception: vals.append(float("nan"))
    try: pp = json.load(open(f"{base}_1.json"))["pp"]["tokens_per_s"]
    except Exception: pp = float("nan")
    print(f"{os.path.basename(base)[6:]:28} tg {vals}  pp512 {pp:.0f}")
PY
