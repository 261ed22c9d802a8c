#!/usr/bin/env bash
# The integer-dot GEMV (llama.cpp's arithmetic: Q8_0 activations; Q4_0
# weights, or KILN_WEIGHTS=q4_0,q8_0) of the Llama-2-7B and Llama-3.2-1B
# decode shapes under a list of schedules, each timed by timestamp queries
# after the SM clock was raised (`gpu_gemv`), in one script that prints a
# short table last: per shape the best schedule against the default
# (64x2x8: 64 invocations, 2 rows of weights a workgroup, one block a
# step). Run from the repository root:
#
#   benches/gpu/int_dot_knobs.sh BIN_DIR OUT_DIR
#
# BIN_DIR holds benches/gpu/build.sh's binaries. KILN_KNOBS overrides the
# schedules (INVOCATIONSxROWSxWIDTH, comma-separated; width 8 takes one
# block per invocation and step, 16 two, 32 four), KILN_SHAPES the K N pairs.
set -u
BIN=$1
OUT=$2
KNOBS=${KILN_KNOBS:-64x2x8,64x2x16,64x2x32,32x2x16,32x4x16,32x2x32,128x1x16,128x2x16,64x4x16,16x4x32}
SHAPES=${KILN_SHAPES:-4096 12288 4096 4096 4096 22016 11008 4096 4096 32000 2048 3072 2048 2048 2048 16384 8192 2048}
mkdir -p "$OUT"
KILN_GEMV_WEIGHTS=${KILN_WEIGHTS:-q4_0} KILN_GEMV_ACTS=q8_0 KILN_GEMV_KNOBS=$KNOBS KILN_GEMV_NO_COPIES=1 timeout "${KILN_KNOBS_TIMEOUT:-400}" "$BIN/gpu_gemv" 0 $SHAPES >"$OUT/int_dot_knobs.txt" 2>&1
echo "== integer-dot GEMV schedules (us, weight GB/s); default 64x2x8"
python3 - "$OUT/int_dot_knobs.txt" <<'PY'
import re, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"\s*(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+([\d.]+)\s+([\d.]+)", line)
    if m:
        rows.setdefault((m[3], int(m[1]), int(m[2])), []).append((m[4], float(m[5]), float(m[6])))
for (dt, k, n), runs in sorted(rows.items()):
    default = next((t for knob, t, _ in runs if knob.startswith("64x2x8")), None)
    knob, t, gbs = min(runs, key=lambda r: r[1])
    vs = f"x{default / t:.2f} over default {default:.1f} us" if default else "no default"
    print(f"{dt:5} K={k:>5} N={n:>6}: best {knob:>10} {t:7.1f} us {gbs:6.0f} GB/s ({vs}); all: " + " ".join(f"{kn}={tt:.1f}" for kn, tt, _ in runs))
PY
