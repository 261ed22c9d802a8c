#!/usr/bin/env bash
# Kernels proven in bounds run without wgpu's run-time checks, and lanes
# share their block index and scale (issue 7): what each gives, in one
# script that prints a short table last. Modes, alternated in rounds:
# `baseline` (KILN_GPU_DISABLE=trusted,fold_lanes: every shader with wgpu's
# bounds and integer-division checks, every lane its own division),
# `unchecked` (proven kernels without checks) and `default` (both): the
# GEMVs alone (gpu_gemv), then `kiln bench` pp/tg of each model. Run from
# the repository root:
#
#   benches/gpu/trusted.sh BIN_DIR OUT_DIR MODEL [MODEL...]
#
# BIN_DIR holds the binaries of benches/gpu/build.sh; MODEL is a GGUF path
# or random:SHAPE:DTYPE. Environment: KILN_PP (default 512), KILN_TG
# (default 128), KILN_ROUNDS (default 2), KILN_BANDWIDTH_GBS (default: the
# copy probe of gpu_gemv), KILN_MODES (space-separated NAME|KILN_GPU_DISABLE
# pairs).
set -u
BIN=$1
OUT=$2
shift 2
PP=${KILN_PP:-512}
TG=${KILN_TG:-128}
ROUNDS=${KILN_ROUNDS:-2}
mkdir -p "$OUT"
export RUST_BACKTRACE=0
BW=${KILN_BANDWIDTH_GBS:-$("$BIN/gpu_gemv" copy)}
MODES=${KILN_MODES:-baseline|trusted,fold_lanes unchecked|fold_lanes default|}

echo "== gpu_gemv (Llama-2-7B shapes), the modes alternated"
for round in $(seq "$ROUNDS"); do
    for m in $MODES; do
        IFS='|' read -r mode disable <<<"$m"
        KILN_GPU_DISABLE=$disable KILN_GEMV_NO_COPIES=1 timeout 120 "$BIN/gpu_gemv" 0 4096 4096 4096 11008 11008 4096 4096 32000 \
            >"$OUT/gemv.$mode.$round.txt" 2>&1
        grep -iE "^ *[0-9]+ +[0-9]+ +(q4_0|q8_0|f16)" "$OUT/gemv.$mode.$round.txt" | sed "s/^/$mode $round: /"
    done
done

for model in "$@"; do
    tag=$(basename "$model" | tr ':/' '__')
    for round in $(seq "$ROUNDS"); do
        for m in $MODES; do
            IFS='|' read -r mode disable <<<"$m"
            echo "== $tag $mode $round"
            KILN_GPU_DISABLE=$disable timeout "${KILN_BENCH_TIMEOUT:-300}" "$BIN/kiln" bench --model "$model" --device gpu \
                --prompt-tokens "$PP" --gen-tokens "$TG" --bandwidth "$BW" --profile --json >"$OUT/$tag.$mode.$round.json" 2>"$OUT/$tag.$mode.$round.log"
            rc=$?
            grep -E "decode step|kernels" "$OUT/$tag.$mode.$round.log" | head -2
            [ $rc -eq 0 ] || echo "{\"error\": \"exit $rc\"}" >"$OUT/$tag.$mode.$round.json"
        done
    done
done

echo "== table (copy bandwidth $BW GB/s)"
python3 - "$OUT" <<'PY'
import json, pathlib, re, sys
out = pathlib.Path(sys.argv[1])
gemv = {}
for f in sorted(out.glob("gemv.*.txt")):
    mode = f.name.split(".")[1]
    for line in f.read_text().splitlines():
        m = re.match(r"\s*(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+([\d.]+)\s+([\d.]+)", line)
        if m:
            gemv.setdefault((m[1], m[2], m[3], mode), []).append((float(m[5]), float(m[6])))
modes = sorted({k[3] for k in gemv}, key=lambda m: ["baseline", "unchecked", "default"].index(m) if m in ["baseline", "unchecked", "default"] else 9)
for key in sorted({k[:3] for k in gemv}):
    parts, base = [], None
    for mode in modes:
        runs = gemv.get(key + (mode,), [])
        if not runs:
            continue
        best = min(t for t, _ in runs)
        base = base or best
        gbs = max(g for _, g in runs)
        parts.append(f"{mode} {' '.join(f'{t:.1f}' for t, _ in runs)} us ({gbs:.0f} GB/s, x{base / best:.2f})")
    print(f"gemv {key[2]:5} K={key[0]:>5} N={key[1]:>5}: " + " | ".join(parts))
for f in sorted(out.glob("*.json")):
    r = json.loads(f.read_text())
    if "error" in r:
        print(f"{f.stem:40} failed ({r['error']})")
        continue
    frac = r.get("tg_fraction_of_limit") or 0
    print(f"{f.stem:40} pp{r['pp']['tokens']} {r['pp']['tokens_per_s']:9.1f}  tg{r['tg']['tokens']} {r['tg']['tokens_per_s']:8.1f}  {100 * frac:5.1f}% of limit")
PY
