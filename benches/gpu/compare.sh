#!/usr/bin/env bash
# Builds or modes of kiln against each other, alternated in rounds on the
# same GPU, in one script that prints a short table last: the GEMVs of the
# Llama-2-7B shape (`gpu_gemv`), then `kiln bench` pp/tg of each model
# (with --profile: its decode-step line gives the kernels' GPU time beside
# tg's wall time). Run from the repository root:
#
#   KILN_RUNS="NAME=BIN_DIR[|DISABLE[|NUMERICS[|VAR=VALUE,...]]] ..." benches/gpu/compare.sh OUT_DIR MODEL [MODEL...]
#
# Each run is a name, a directory of benches/gpu/build.sh binaries, and
# optionally a KILN_GPU_DISABLE list, a `--numerics` choice and environment
# variables for kiln, e.g. two modes of one build:
# "baseline=/tmp/b|trusted,fold_lanes default=/tmp/b", two builds:
# "a=/tmp/a b=/tmp/b", two arithmetics: "f32=/tmp/b llamacpp=/tmp/b||llamacpp",
# or two submission sizes: "s64=/tmp/b||llamacpp s256=/tmp/b||llamacpp|KILN_GPU_SUBMIT_EVERY=256".
# MODEL is a GGUF path or random:SHAPE:DTYPE.
# Environment: KILN_PP (default 512), KILN_TG (default 128), KILN_ROUNDS
# (default 2), KILN_BANDWIDTH_GBS (default 2766, the H100's copy probe),
# KILN_BENCH_TIMEOUT (seconds per bench, default 300), KILN_PEERS (builds
# of llama.cpp's llama-bench as NAME=DIR ..., e.g. "vulkan=/tmp/lv
# cuda=/tmp/lc" from benches/gpu/build_llamacpp.sh and
# build_llamacpp_cuda.sh: each model is also measured by each of them on the
# same weights, a random stand-in written by the first run's `random_gguf`;
# pp from an empty context and tg after a prompt of KILN_PP tokens, `-d`, as
# kiln's are, with flash attention off and on; KILN_PEER_ROUNDS rounds,
# default KILN_ROUNDS); KILN_COMPARE_GEMV=0 skips the GEMV timings.
set -u
OUT=$1
shift
PP=${KILN_PP:-512}
TG=${KILN_TG:-128}
BW=${KILN_BANDWIDTH_GBS:-2766}
ROUNDS=${KILN_ROUNDS:-2}
mkdir -p "$OUT"
export RUST_BACKTRACE=0
each_run() { # command to run with $name $bin $disable $numerics $vars set, per round and run
    for round in $(seq "$ROUNDS"); do
        for run in $KILN_RUNS; do
            name=${run%%=*}
            IFS='|' read -r bin disable numerics vars <<<"${run#*=}"
            "$@"
        done
    done
}
gemv() {
    # llama.cpp's arithmetic: Q4_0 GEMVs of Q8_0 activations
    acts=
    [ "$numerics" = llamacpp ] && acts=q8_0
    [ -x "$bin/gpu_gemv" ] && env ${vars//,/ } KILN_GEMV_ACTS=$acts KILN_GPU_DISABLE=$disable KILN_GEMV_NO_COPIES=1 timeout 120 "$bin/gpu_gemv" 0 4096 4096 4096 11008 11008 4096 4096 32000 >"$OUT/gemv.$name.$round.txt" 2>&1
}
bench() {
    env ${vars//,/ } KILN_GPU_DISABLE=$disable timeout "${KILN_BENCH_TIMEOUT:-300}" "$bin/kiln" bench --model "$model" --device gpu ${numerics:+--numerics "$numerics"} --prompt-tokens "$PP" --gen-tokens "$TG" \
        --bandwidth "$BW" --profile --json >"$OUT/$tag.$name.$round.json" 2>"$OUT/$tag.$name.$round.log" \
        || echo "{\"error\": \"exit $?\"}" >"$OUT/$tag.$name.$round.json"
}
peer() { # llama.cpp on the same weights, the same rounds
    first=${KILN_RUNS%% *}
    first=${first#*=}
    first=${first%%|*}
    file=$model
    case $model in
    random:*)
        file=${TMPDIR:-/tmp}/kiln-peer-$tag.gguf
        "$first/random_gguf" "${model#random:}" "$file" 2>>"$OUT/$tag.peer.log" || return
        ;;
    esac
    for round in $(seq "${KILN_PEER_ROUNDS:-$ROUNDS}"); do
        for peer in $KILN_PEERS; do
            for test in "-p $PP -n 0" "-p 0 -n $TG -d $PP"; do
                timeout "${KILN_BENCH_TIMEOUT:-300}" "${peer#*=}/llama-bench" -m "$file" -ngl 99 $test -fa 0,1 -r 3 -o jsonl \
                    >>"$OUT/$tag.llamacpp-${peer%%=*}.$round.llamabench" 2>>"$OUT/$tag.peer.log" || echo "${peer%%=*}: llama-bench exit $?" >>"$OUT/$tag.peer.log"
            done
        done
    done
    [ "$file" = "$model" ] || rm -f "$file"
}
[ "${KILN_COMPARE_GEMV:-1}" = 0 ] || each_run gemv
for model in "$@"; do
    tag=$(basename "$model" | tr ':/' '__')
    each_run bench
    [ -z "${KILN_PEERS:-}" ] || peer
done
echo "== table (runs: $KILN_RUNS; limit at $BW GB/s; speed-ups against the first run)"
python3 - "$OUT" "$KILN_RUNS" <<'PY'
import json, pathlib, re, sys
out, runs = pathlib.Path(sys.argv[1]), [r.split("=")[0] for r in sys.argv[2].split()]
gemv = {}
for f in sorted(out.glob("gemv.*.txt")):
    name = f.name.split(".")[1]
    for line in f.read_text().splitlines():
        m = re.match(r"\s*(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+([\d.]+)\s+([\d.]+)", line)
        if m:
            gemv.setdefault((m[3], m[1], m[2]), {}).setdefault(name, []).append((float(m[5]), float(m[6])))
for (dt, k, n), by_run in sorted(gemv.items()):
    parts, first = [], None
    for name in runs:
        times = by_run.get(name, [])
        if times:
            best = min(t for t, _ in times)
            first = first or best
            parts.append(f"{name} {' '.join(f'{t:.1f}' for t, _ in times)} us ({max(g for _, g in times):.0f} GB/s, x{first / best:.2f})")
    print(f"gemv {dt:5} K={k:>5} N={n:>5}: " + " | ".join(parts))
limits = {}
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
    limits[f.stem.split(".")[0]] = r.get("tg_limit_tokens_per_s")
for f in sorted(out.glob("*.llamabench")):
    tag = f.stem.split(".")[0]
    try:
        rows = [json.loads(line) for line in f.read_text().splitlines() if line.strip()]
    except ValueError:
        rows = []
    if not rows:
        print(f"{f.stem:40} llama.cpp failed (see {tag}.peer.log)")
        continue
    by_fa = {}
    for row in rows:
        kind = "pp" if row["n_gen"] == 0 else "tg"
        by_fa.setdefault(row.get("flash_attn"), {})[kind] = row
    for fa, k in by_fa.items():
        pp, tg = k.get("pp", {}).get("avg_ts", 0), k.get("tg", {}).get("avg_ts", 0)
        limit = limits.get(tag)
        of = f"{100 * tg / limit:4.1f}% of limit" if limit and tg else "limit unknown"
        print(f"{f.stem + ' fa=' + str(int(fa)):40} pp{k.get('pp', {}).get('n_prompt', '?')} {pp:8.1f}  tg{k.get('tg', {}).get('n_gen', '?')} {tg:7.1f} ({1e3 / tg if tg else 0:6.2f} ms/token, {of})  {rows[0].get('backends', '')} {rows[0].get('build_commit', '')}")
PY
