#!/usr/bin/env bash
# Two builds of kiln against each other, alternated in rounds on the same
# GPU, in one script that prints a short table last: the GEMVs of the
# Llama-2-7B shape (`gpu_gemv`, where both directories have it), then
# `kiln bench` pp/tg of each model (with --profile, whose decode-step line
# gives the kernels' GPU time beside the wall time of tg). Run from the
# repository root:
#
#   benches/gpu/ab.sh A_BIN_DIR B_BIN_DIR OUT_DIR MODEL [MODEL...]
#
# Each BIN_DIR holds a release `kiln` (benches/gpu/build.sh); MODEL is a
# GGUF path or random:SHAPE:DTYPE. Environment: KILN_PP (default 512),
# KILN_TG (default 128), KILN_ROUNDS (default 2), KILN_BANDWIDTH_GBS
# (default 2766, the H100's copy probe).
set -u
A=$1
B=$2
OUT=$3
shift 3
PP=${KILN_PP:-512}
TG=${KILN_TG:-128}
BW=${KILN_BANDWIDTH_GBS:-2766}
mkdir -p "$OUT"
export RUST_BACKTRACE=0
if [ -x "$A/gpu_gemv" ] && [ -x "$B/gpu_gemv" ]; then
    for round in $(seq "${KILN_ROUNDS:-2}"); do
        for build in a b; do
            bin=$A
            [ $build = b ] && bin=$B
            KILN_GEMV_NO_COPIES=1 timeout 120 "$bin/gpu_gemv" 0 4096 4096 4096 11008 11008 4096 4096 32000 >"$OUT/gemv.$build.$round.txt" 2>&1
        done
    done
fi
for model in "$@"; do
    tag=$(basename "$model" | tr ':/' '__')
    for round in $(seq "${KILN_ROUNDS:-2}"); do
        for build in a b; do
            bin=$A
            [ $build = b ] && bin=$B
            timeout "${KILN_BENCH_TIMEOUT:-300}" "$bin/kiln" bench --model "$model" --device gpu --prompt-tokens "$PP" --gen-tokens "$TG" \
                --bandwidth "$BW" --profile --json >"$OUT/$tag.$build.$round.json" 2>"$OUT/$tag.$build.$round.log" \
                || echo "{\"error\": \"exit $?\"}" >"$OUT/$tag.$build.$round.json"
        done
    done
done
echo "== table (a: $A, b: $B; limit at $BW GB/s)"
python3 - "$OUT" <<'PY'
import json, pathlib, re, sys
out = pathlib.Path(sys.argv[1])
gemv = {}
for f in sorted(out.glob("gemv.*.txt")):
    build = f.name.split(".")[1]
    for line in f.read_text().splitlines():
        m = re.match(r"\s*(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+([\d.]+)\s+([\d.]+)", line)
        if m:
            gemv.setdefault((m[3], m[1], m[2]), {}).setdefault(build, []).append((float(m[5]), float(m[6])))
for (dt, k, n), runs in sorted(gemv.items()):
    a, b = runs.get("a", []), runs.get("b", [])
    if a and b:
        ta, tb = min(t for t, _ in a), min(t for t, _ in b)
        print(f"gemv {dt:5} K={k:>5} N={n:>5}: a {' '.join(f'{t:.1f}' for t, _ in a)} us | b {' '.join(f'{t:.1f}' for t, _ in b)} us ({max(g for _, g in b):.0f} GB/s) | b/a x{ta / tb:.2f}")
for f in sorted(out.glob("*.json")):
    r = json.loads(f.read_text())
    if "error" in r:
        print(f"{f.stem:40} failed ({r['error']})")
        continue
    log = f.with_suffix(".log").read_text()
    step = re.search(r"decode step: ([\d.]+) ms in (\d+) kernels", log)
    gpu = f"kernels {step[1]} ms/step ({step[2]})" if step else ""
    tg = r["tg"]["tokens_per_s"]
    print(f"{f.stem:40} pp{r['pp']['tokens']} {r['pp']['tokens_per_s']:8.1f}  tg{r['tg']['tokens']} {tg:7.1f} ({1e3 / tg:6.2f} ms/token, {100 * (r.get('tg_fraction_of_limit') or 0):4.1f}% of limit)  {gpu}")
PY
