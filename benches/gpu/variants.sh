#!/usr/bin/env bash
# Decode and prefill speed of one model under compile variants, in one
# script that prints a short table last: graph rewriting off and on, and
# the optional shader features (subgroups, native f16) turned off. Run from
# the repository root:
#
#   benches/gpu/variants.sh BIN_DIR OUT_DIR MODEL [MODEL...]
#
# BIN_DIR holds a release `kiln` (benches/gpu/build.sh); MODEL is a GGUF
# path or random:SHAPE:DTYPE. Environment: KILN_PP (default 512), KILN_TG
# (default 128), KILN_BANDWIDTH_GBS (default: the copy probe of gpu_gemv),
# KILN_VARIANTS (space-separated NAME|REWRITE|KILN_GPU_DISABLE triples;
# default the three above; e.g. "vectors-off|on|vectors vectors-on|on|").
set -u
BIN=$1
OUT=$2
shift 2
PP=${KILN_PP:-512}
TG=${KILN_TG:-128}
BW=${KILN_BANDWIDTH_GBS:-$("$BIN/gpu_gemv" copy)}
mkdir -p "$OUT"
export RUST_BACKTRACE=0
for model in "$@"; do
    tag=$(basename "$model" | tr ':/' '__')
    for variant in ${KILN_VARIANTS:-rewrite-off|off| rewrite-on|on| on-no-subgroups-f16|on|subgroups,native_f16}; do
        IFS='|' read -r name rewrite disable <<<"$variant"
        echo "== $tag $name"
        KILN_GPU_DISABLE=$disable timeout "${KILN_BENCH_TIMEOUT:-400}" "$BIN/kiln" bench --model "$model" --device gpu --rewrite "$rewrite" \
            --prompt-tokens "$PP" --gen-tokens "$TG" --bandwidth "$BW" --profile --json >"$OUT/$tag.$name.json" 2>"$OUT/$tag.$name.log"
        rc=$?
        grep -E "decode step|kernels" "$OUT/$tag.$name.log" | head -2
        [ $rc -eq 0 ] || echo "{\"error\": \"exit $rc\"}" >"$OUT/$tag.$name.json"
    done
done
echo "== table (copy bandwidth $BW GB/s)"
python3 - "$OUT" <<'PY'
import json, pathlib, sys
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.json")):
    r = json.loads(f.read_text())
    if "error" in r:
        print(f"{f.stem:48} failed ({r['error']})")
        continue
    frac = r.get("tg_fraction_of_limit") or 0
    print(f"{f.stem:48} pp{r['pp']['tokens']} {r['pp']['tokens_per_s']:9.1f}  tg{r['tg']['tokens']} {r['tg']['tokens_per_s']:8.1f}  {100 * frac:5.1f}% of limit")
PY
