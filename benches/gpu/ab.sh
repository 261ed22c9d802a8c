#!/usr/bin/env bash
# Two builds of kiln against each other, alternated in rounds on the same
# GPU, in one script that prints a short table last: `kiln bench` pp/tg of
# each model (with --profile, whose decode-step line gives the kernels' GPU
# time beside the wall time of tg). Run from the repository root:
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
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.json")):
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
