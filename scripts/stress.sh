#!/usr/bin/env bash
# Stress harnesses built with AddressSanitizer (Stress/): our code under the sanitizer, driven
# by real clients, so a use after free or an overflow aborts with a report instead of
# passing by luck.
#
#   scripts/stress.sh build          build every harness into .build/stress
#   scripts/stress.sh run [SECONDS]  run them (default 30 s each); a sanitizer report fails the run
#
# room-prune: the RTSP server (Sources/ChatCastRTSP and its C glue, compiled with ASan)
# forgetting rooms while Tests/interop/room_prune_load.py publishes into them, DESCRIBEs
# and SETUPs them and ANNOUNCEs made-up rooms. GStreamer itself is not instrumented.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/.build/stress
SWIFTC=${SWIFTC:-swiftc}
PACKAGES=(gstreamer-rtsp-server-1.0 gstreamer-video-1.0 gstreamer-app-1.0 gstreamer-webrtc-1.0 gstreamer-sdp-1.0
          gstreamer-rtp-1.0 gstreamer-rtsp-1.0 gio-2.0)
SWIFT_FLAGS=(-O -g -swift-version 6 -parse-as-library -sanitize=address -module-cache-path "$OUT/ModuleCache" -I "$OUT")

# A C glue target as one object, and a module map naming its header.
c_target() {
  local name=$1
  mkdir -p "$OUT/$name"
  local objects=()
  for c in "$ROOT"/Sources/"$name"/*.c; do
    clang -O1 -g -fsanitize=address -fno-omit-frame-pointer -fPIC $(pkg-config --cflags "${PACKAGES[@]}") \
      -I "$ROOT/Sources/$name/include" -c "$c" -o "$OUT/$name/$(basename "$c" .c).o"
    objects+=("$OUT/$name/$(basename "$c" .c).o")
  done
  printf 'module %s {\n  umbrella header "%s"\n  export *\n}\n' "$name" "$ROOT/Sources/$name/include/$name.h" \
    >"$OUT/$name/module.modulemap"
}

# A Swift library module of Sources/NAME as one object and its .swiftmodule.
swift_module() {
  local name=$1; shift
  "$SWIFTC" "${SWIFT_FLAGS[@]}" -wmo -module-name "$name" -emit-module -emit-module-path "$OUT/$name.swiftmodule" \
    "$@" -c "$ROOT"/Sources/"$name"/*.swift -o "$OUT/$name.o"
}

build() {
  mkdir -p "$OUT"
  local start=$SECONDS
  c_target CGstRTSPGlue
  c_target CGstWebRTCGlue
  c_target CSanitizerHooks
  swift_module Locking -Xcc "-fmodule-map-file=$OUT/CSanitizerHooks/module.modulemap"
  local maps=(-Xcc "-fmodule-map-file=$ROOT/Sources/CGStreamer/module.modulemap"
              -Xcc "-fmodule-map-file=$OUT/CSanitizerHooks/module.modulemap"
              -Xcc "-fmodule-map-file=$ROOT/Sources/CGstRTSPServer/module.modulemap"
              -Xcc "-fmodule-map-file=$OUT/CGstRTSPGlue/module.modulemap"
              -Xcc "-fmodule-map-file=$OUT/CGstWebRTCGlue/module.modulemap")
  local cflags=()
  for flag in $(pkg-config --cflags "${PACKAGES[@]}"); do cflags+=(-Xcc "$flag"); done
  swift_module ChatCastJSON
  swift_module YoloCore
  swift_module ChatCastSEI
  swift_module ChatCastRTSP "${maps[@]}" "${cflags[@]}" -I "$ROOT/Sources/CGstRTSPGlue/include" -I "$ROOT/Sources/CGstWebRTCGlue/include"
  local libs=()
  for flag in $(pkg-config --libs "${PACKAGES[@]}"); do libs+=("$flag"); done
  "$SWIFTC" "${SWIFT_FLAGS[@]/-parse-as-library}" -module-name RoomPrune "${maps[@]}" "${cflags[@]}" Stress/RoomPrune/main.swift \
    "$OUT/ChatCastJSON.o" "$OUT/YoloCore.o" "$OUT/ChatCastSEI.o" "$OUT/Locking.o" "$OUT/ChatCastRTSP.o" "$OUT"/CGstRTSPGlue/*.o \
    "$OUT"/CGstWebRTCGlue/*.o "$OUT"/CSanitizerHooks/*.o "${libs[@]}" -o "$OUT/room-prune"
  echo "stress: built room-prune in $((SECONDS - start)) s"
}

run() {
  local seconds=${1:-30}
  export SWIFT_BACKTRACE=enable=no
  # GLib's caches look like leaks at exit; the question here is memory safety.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
  local log=$ROOT/build/stress/room-prune.log
  mkdir -p "$(dirname "$log")"
  coproc SERVER { "$OUT/room-prune" 127.0.0.11 2>"$log"; }
  local line port
  read -r -t 30 line <&"${SERVER[0]}" || { echo "stress: room-prune did not start"; cat "$log"; exit 1; }
  port=${line#listening }
  echo "stress: room-prune on 127.0.0.11:$port for $seconds s"
  local status=0
  /usr/bin/python3 Tests/interop/room_prune_load.py 127.0.0.11 "$port" "$seconds" || status=$?
  exec {SERVER[1]}>&-
  wait "$SERVER_PID" || status=$?
  if grep -q "ERROR: AddressSanitizer" "$log"; then
    echo "stress: room-prune FAILED: AddressSanitizer report in $log"
    grep -A 30 "ERROR: AddressSanitizer" "$log" | head -60
    exit 1
  fi
  [ "$status" = 0 ] || { echo "stress: room-prune FAILED (exit $status); last lines of $log:"; tail -n 30 "$log"; exit 1; }
  echo "stress: room-prune passed"
}

case ${1:-} in
  build) build ;;
  run) shift; run "${1:-30}" ;;
  *) sed -n '2,12p' "$0"; exit 2 ;;
esac
