#!/usr/bin/env bash
# Times YoloCore's per-frame work with bounds checks on (-O, as the package builds it) and
# off (-Ounchecked): ROUNDS alternating rounds, so machine noise hits both sides alike.
# Writes bench/results/bounds-checks.txt (median and min-max of the rounds' per-frame medians).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-7}
OUT=.build/bounds-bench
mkdir -p "$OUT/checked" "$OUT/unchecked"
for mode in checked unchecked; do
  opt=-O; [ $mode = unchecked ] && opt=-Ounchecked
  for m in ChatCastJSON YoloCore; do
    flags=$opt; [ $m = ChatCastJSON ] && flags=-O  # only YoloCore's own loops are in question
    swiftc $flags -wmo -parse-as-library -swift-version 5 -module-name $m -emit-module -emit-module-path "$OUT/$mode/$m.swiftmodule" \
      -I "$OUT/$mode" -c Sources/$m/*.swift -o "$OUT/$mode/$m.o"
  done
  swiftc -O -swift-version 5 -I "$OUT/$mode" bench/BoundsChecks/main.swift "$OUT/$mode"/*.o -o "$OUT/$mode/bench"
done
for i in $(seq "$ROUNDS"); do
  for mode in checked unchecked; do echo "$mode $("$OUT/$mode/bench" 40)"; done
done | tee "$OUT/rounds.txt"
python3 - "$OUT/rounds.txt" <<'PY' | tee bench/results/bounds-checks.txt
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    d = dict(zip(f[1::2], f[2::2]))
    for k in ("nv12", "bgrx", "head", "nms"):
        rows.setdefault((k, f[0]), []).append(float(d[k]))
print("YoloCore per 1280x720 frame, ms (median of rounds, min-max), rounds alternate checked/unchecked")
for k in ("nv12", "bgrx", "head", "nms"):
    c, u = rows[(k, "checked")], rows[(k, "unchecked")]
    print(f"{k:5} checked {statistics.median(c):7.3f} ({min(c):.3f}-{max(c):.3f})  "
          f"unchecked {statistics.median(u):7.3f} ({min(u):.3f}-{max(u):.3f})  "
          f"checked/unchecked {statistics.median(c) / statistics.median(u):.2f}")
PY
