#!/usr/bin/env bash
# Coverage-guided fuzzing of the decoders that read untrusted bytes (Fuzz/), with libFuzzer
# and AddressSanitizer from the Swift toolchain: nothing to install beyond Swift.
#
#   scripts/fuzz.sh build                 build every target into .build/fuzz
#   scripts/fuzz.sh run SECONDS [TARGET…] fuzz each target SECONDS (default all); a crash,
#                                         a failed check, a leak or a hang fails the run
#   scripts/fuzz.sh seeds                 rewrite Fuzz/corpus/envelope from the encoder
#
# The decoders are compiled from Sources/ with the release optimiser and bounds checks on,
# as the package builds them. The irc, http and presets targets link swift-nio and Yams from
# the package's build (CONFIG, default release): run `swift build -c release` first. The
# announce and whep-offer targets compile our C glue against GStreamer's SDP and RTP
# libraries (not instrumented: they are GStreamer's, not ours). Grown corpora stay in
# build/fuzz/corpus; crashing inputs land in build/fuzz/crashes (see Fuzz/crashes/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/.build/fuzz
TARGETS=(envelope json irc irc-client matroska metadata presets http rtsp-request announce whep-offer)
SWIFTC=${SWIFTC:-swiftc}
CLANG=${CLANG:-$(dirname "$(command -v "$SWIFTC")")/clang}
FLAGS=(-O -g -swift-version 5 -parse-as-library -sanitize=fuzzer,address -use-ld=lld -module-cache-path "$OUT/ModuleCache" -I "$OUT")

# A library module of Sources/NAME as one object and its .swiftmodule.
module() {
  local name=$1
  "$SWIFTC" "${FLAGS[@]}" -wmo -module-name "$name" -emit-module -emit-module-path "$OUT/$name.swiftmodule" \
    -c "$ROOT"/Sources/"$name"/*.swift -o "$OUT/$name.o"
}

# The package's build (CONFIG, default release), where swift-nio and Yams are built.
package_build() {
  local release
  release=$(swift build -c "${CONFIG:-release}" --show-bin-path)
  [ -f "$release/Modules/NIOCore.swiftmodule" ] && [ -f "$release/Modules/Yams.swiftmodule" ] \
    || { echo "fuzz: build the package first (swift build -c ${CONFIG:-release})" >&2; exit 1; }
  echo "$release"
}

# What a target needs of the package's build to import and link the package targets it
# names (each with everything it depends on): their objects, the package's module folder and
# the C targets' module maps. One argument a line (object names have spaces).
package_flags() {
  local release=$1 d checkouts
  shift
  printf '%s\n' -I "$release/Modules"
  for d in "$@"; do
    [ -d "$release/$d.build" ] || continue
    find "$release/$d.build" -name '*.o'
    if [ -f "$release/$d.build/module.modulemap" ]; then
      printf '%s\n' -Xcc "-fmodule-map-file=$release/$d.build/module.modulemap"
    fi
  done
  # C targets that ship their own module map (swift-atomics' shims, CNIOWindows, CYaml).
  checkouts=$(dirname "$(dirname "$release")")/checkouts
  [ -d "$checkouts" ] || checkouts=$ROOT/.build/checkouts
  find "$checkouts/swift-atomics/Sources" "$checkouts/swift-nio/Sources" "$checkouts/swift-nio-ssl/Sources" \
    "$checkouts/Yams/Sources" -path '*/include/module.modulemap' -printf '-Xcc\n-fmodule-map-file=%p\n'
}

# swift-nio for an EmbeddedChannel, and what the web server adds (HTTP/1.1, the WebSocket
# upgrade, and the listener and TLS that WebServer.swift names).
NIO=(NIOCore NIOEmbedded NIOConcurrencyHelpers _NIODataStructures _NIOBase64 CNIOAtomics CNIOLinux CNIODarwin CNIOWindows
     CNIOWASI CNIOOpenBSD CNIOFreeBSD Atomics _AtomicsShims DequeModule InternalCollectionsUtilities ContainersPreview)
NIO_WEB=(NIOHTTP1 CNIOLLHTTP NIOWebSocket CNIOSHA1 NIOPosix CNIOPosix NIO NIOSSL NIOTLS CNIOBoringSSL CNIOBoringSSLShims)

# What our C glue includes and calls of GStreamer (SDP, RTP, RTSP, WebRTC).
GST_PACKAGES=(gstreamer-rtsp-server-1.0 gstreamer-rtsp-1.0 gstreamer-app-1.0 gstreamer-sdp-1.0 gstreamer-rtp-1.0
              gstreamer-webrtc-1.0 gio-2.0)

# Our C glue Sources/NAME/*.c, one object each in .build/fuzz/NAME, instrumented like the
# Swift (GST_USE_UNSTABLE_API: gst/webrtc warns without it), and a module map for its header.
glue() {
  local name=$1 c
  mkdir -p "$OUT/$name"
  rm -f "$OUT/$name"/*.o
  for c in Sources/"$name"/*.c; do
    "$CLANG" -O2 -g -fsanitize=fuzzer-no-link,address -DGST_USE_UNSTABLE_API $(pkg-config --cflags "${GST_PACKAGES[@]}") \
      -I "Sources/$name/include" \
      -c "$c" -o "$OUT/$name/$(basename "$c" .c).o"
  done
  printf 'module %s {\n  header "%s"\n  export *\n}\n' "$name" "$ROOT/Sources/$name/include/$name.h" >"$OUT/$name.modulemap"
}

build() {
  mkdir -p "$OUT"
  local start=$SECONDS
  module ChatCastJSON
  module YoloCore
  module ChatCastSEI
  "$SWIFTC" "${FLAGS[@]}" -module-name FuzzEnvelope Fuzz/Envelope/*.swift Fuzz/Shared/*.swift \
    "$OUT/ChatCastJSON.o" "$OUT/YoloCore.o" "$OUT/ChatCastSEI.o" -o "$OUT/fuzz-envelope"
  "$SWIFTC" "${FLAGS[@]}" -module-name FuzzJSON Fuzz/JSON/*.swift Fuzz/Shared/*.swift "$OUT/ChatCastJSON.o" -o "$OUT/fuzz-json"
  # The Matroska reader's file compiles alone: its target's other files need GStreamer.
  "$SWIFTC" "${FLAGS[@]}" -module-name FuzzMatroska Fuzz/Matroska/*.swift Fuzz/Shared/*.swift Sources/ChatCastRTSP/RecordingRepair.swift \
    -o "$OUT/fuzz-matroska"
  "$SWIFTC" "${FLAGS[@]}" -module-name FuzzMetadata Fuzz/Metadata/*.swift Fuzz/Shared/*.swift \
    "$OUT/ChatCastJSON.o" "$OUT/YoloCore.o" -o "$OUT/fuzz-metadata"
  # PlaybackRate's file compiles alone too.
  "$SWIFTC" "${FLAGS[@]}" -module-name FuzzRTSPRequest Fuzz/RTSPRequest/*.swift Fuzz/Shared/*.swift \
    Sources/ChatCastRTSP/PlaybackRate.swift -o "$OUT/fuzz-rtsp-request"

  local release nio imports web yams gst
  release=$(package_build)
  package_flags "$release" "${NIO[@]}" >"$OUT/nio.args"
  mapfile -t nio <"$OUT/nio.args"
  "$SWIFTC" "${FLAGS[@]}" -module-name FuzzIRC Fuzz/IRC/*.swift Fuzz/Shared/*.swift Sources/ChatIRC/IRCLineDecoder.swift \
    Sources/ChatIRC/IRCMessage.swift "${nio[@]}" -o "$OUT/fuzz-irc"
  # The web server's files, WebServer.configure included. WebSocketIRCFrames imports ChatIRC
  # for its line type: a ChatIRC of the two NIO-only files the IRC target compiles stands in.
  mapfile -t imports < <(grep -v '\.o$' "$OUT/nio.args")
  "$SWIFTC" "${FLAGS[@]}" -wmo -module-name ChatIRC -emit-module -emit-module-path "$OUT/ChatIRC.swiftmodule" \
    -c Sources/ChatIRC/IRCLineDecoder.swift Sources/ChatIRC/IRCMessage.swift "${imports[@]}" -o "$OUT/ChatIRC.o"
  package_flags "$release" "${NIO[@]}" "${NIO_WEB[@]}" >"$OUT/web.args"
  mapfile -t web <"$OUT/web.args"
  # Its Mutex is Locking's (the sanitizer hooks are no-ops without ThreadSanitizer).
  glue CSanitizerHooks
  "$SWIFTC" "${FLAGS[@]}" -wmo -module-name Locking -emit-module -emit-module-path "$OUT/Locking.swiftmodule" \
    -Xcc -fmodule-map-file="$OUT/CSanitizerHooks.modulemap" -c Sources/Locking/*.swift -o "$OUT/Locking.o"
  "$SWIFTC" "${FLAGS[@]}" -module-name FuzzHTTP Fuzz/HTTP/*.swift Fuzz/Shared/*.swift Sources/ChatCastHTTP/*.swift \
    -Xcc -fmodule-map-file="$OUT/CSanitizerHooks.modulemap" "$OUT/Locking.o" "$OUT"/CSanitizerHooks/*.o \
    "$OUT/ChatIRC.o" "${web[@]}" -o "$OUT/fuzz-http"
  # The elements' IRC client, all of it (TLS included: NIOSSL), driven on an EmbeddedChannel.
  "$SWIFTC" "${FLAGS[@]}" -module-name FuzzIRCClient Fuzz/IRCClient/*.swift Fuzz/Shared/*.swift Sources/ChatIRC/*.swift \
    -Xcc -fmodule-map-file="$OUT/CSanitizerHooks.modulemap" "$OUT/Locking.o" "$OUT"/CSanitizerHooks/*.o \
    "$OUT/ChatCastJSON.o" "$OUT/YoloCore.o" "$OUT/ChatCastSEI.o" "${web[@]}" -o "$OUT/fuzz-irc-client"
  # The presets' files need only Yams.
  package_flags "$release" Yams CYaml >"$OUT/yams.args"
  mapfile -t yams <"$OUT/yams.args"
  "$SWIFTC" "${FLAGS[@]}" -module-name FuzzPresets Fuzz/Presets/*.swift Fuzz/Shared/*.swift Sources/ChatCastPresets/*.swift \
    "${yams[@]}" -o "$OUT/fuzz-presets"

  # The SDP targets: our C glue and TrackPlan against GStreamer's libraries, with GStreamer
  # started once (Fuzz/Shared/GStreamerInit.c).
  glue CGstRTSPGlue
  glue CGstWebRTCGlue
  "$CLANG" -O2 -g -fsanitize=fuzzer-no-link,address $(pkg-config --cflags gstreamer-1.0) -c Fuzz/Shared/GStreamerInit.c \
    -o "$OUT/GStreamerInit.o"
  read -r -a gst <<<"$(pkg-config --cflags --libs "${GST_PACKAGES[@]}" | sed 's/-pthread//; s/\(-I[^ ]*\)/-Xcc \1/g')"
  "$SWIFTC" "${FLAGS[@]}" -module-name FuzzAnnounce Fuzz/Announce/*.swift Fuzz/Shared/*.swift Sources/ChatCastRTSP/TrackPlan*.swift \
    -Xcc -fmodule-map-file="$OUT/CGstRTSPGlue.modulemap" "$OUT"/CGstRTSPGlue/*.o "$OUT/GStreamerInit.o" "${gst[@]}" \
    -o "$OUT/fuzz-announce"
  "$SWIFTC" "${FLAGS[@]}" -module-name FuzzWHEPOffer Fuzz/WHEPOffer/*.swift Fuzz/Shared/*.swift Sources/ChatCastRTSP/TrackPlan*.swift \
    -Xcc -fmodule-map-file="$OUT/CGstWebRTCGlue.modulemap" "$OUT"/CGstWebRTCGlue/*.o "$OUT/GStreamerInit.o" "${gst[@]}" \
    -o "$OUT/fuzz-whep-offer"
  echo "fuzz: built ${TARGETS[*]} in $((SECONDS - start)) s"
}

# Inputs up to these sizes: an SEI payload's limit plus framing, IRC lines past the
# decoder's 4608-byte limit, a recording's first clusters, model metadata with a few hundred
# names, a preset or config file, requests past the 64 KiB body limit (413), two header
# values, SDP bodies (Chromium's offer is 6 KiB).
max_len() {
  case $1 in
    envelope) echo 8192 ;; json) echo 4096 ;; irc) echo 12000 ;; irc-client) echo 12000 ;; matroska) echo 16384 ;;
    metadata) echo 16384 ;; presets) echo 8192 ;; http) echo 70000 ;; rtsp-request) echo 256 ;;
    announce) echo 8192 ;; whep-offer) echo 16384 ;;
  esac
}

# One target for `seconds`; its exit status goes to .build/fuzz/TARGET.status.
fuzz_one() {
  local t=$1 seconds=$2
  local work=$ROOT/build/fuzz/corpus/$t crashes=$ROOT/build/fuzz/crashes/$t log=$ROOT/build/fuzz/$t.log
  mkdir -p "$work" "$crashes"
  echo 1 >"$OUT/$t.status"
  # The committed seeds are read, never written: new inputs go to the work corpus.
  if "$OUT/fuzz-$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len "$t")" \
      -print_final_stats=1 -artifact_prefix="$crashes/" "$work" "$ROOT/Fuzz/corpus/$t" >"$log" 2>&1; then
    grep -E '^#[0-9]+.*DONE|stat::(number_of_executed_units|average_exec_per_sec|new_units_added)|INFO: Loaded' "$log" \
      | sed "s/^/  $t: /"
    echo 0 >"$OUT/$t.status"
  else
    echo "fuzz: $t FAILED; the input is in $crashes. Last lines of $log:"
    tail -n 40 "$log"
  fi
}

run() {
  local seconds=$1; shift
  local targets=("$@")
  [ ${#targets[@]} -gt 0 ] || targets=("${TARGETS[@]}")
  # Swift's own crash backtracer would race ASan and libFuzzer for the report.
  export SWIFT_BACKTRACE=enable=no
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
  export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/Fuzz/lsan.supp:print_suppressions=0}
  export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer || true)}
  # One target per core at a time (libFuzzer runs on one): 4 targets on 2 cores take 2 × SECONDS.
  local jobs=${FUZZ_JOBS:-$(nproc)} failed=() t
  for t in "${targets[@]}"; do
    [ -x "$OUT/fuzz-$t" ] || { echo "fuzz: no target $t (run: scripts/fuzz.sh build)" >&2; exit 1; }
  done
  for t in "${targets[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
    echo "fuzz: $t for $seconds s (log $ROOT/build/fuzz/$t.log)"
    fuzz_one "$t" "$seconds" >"$OUT/$t.summary" 2>&1 &
  done
  wait
  for t in "${targets[@]}"; do
    cat "$OUT/$t.summary"
    [ "$(cat "$OUT/$t.status" 2>/dev/null)" = 0 ] || failed+=("$t")
  done
  [ ${#failed[@]} -eq 0 ] || { echo "fuzz: failed: ${failed[*]}" >&2; exit 1; }
}

seeds() {
  find Fuzz/corpus/envelope -type f ! -name 'regression-*' -delete  # found inputs stay
  CHATCAST_FUZZ_SEEDS=$ROOT/Fuzz/corpus/envelope "$OUT/fuzz-envelope"
  ls Fuzz/corpus/envelope
}

case ${1:-} in
  build) build ;;
  run) shift; run "${1:-60}" "${@:2}" ;;
  seeds) seeds ;;
  *) sed -n '2,15p' "$0"; exit 2 ;;
esac
