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
# as the package builds them. The IRC target links swift-nio from the package's build
# (CONFIG, default release): run `swift build -c release` first. Grown corpora stay in
# build/fuzz/corpus; crashing inputs land in build/fuzz/crashes (see Fuzz/crashes/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/.build/fuzz
TARGETS=(envelope json irc matroska)
SWIFTC=${SWIFTC:-swiftc}
FLAGS=(-O -g -swift-version 5 -parse-as-library -sanitize=fuzzer,address -use-ld=lld -module-cache-path "$OUT/ModuleCache" -I "$OUT")

# A library module of Sources/NAME as one object and its .swiftmodule.
module() {
  local name=$1
  "$SWIFTC" "${FLAGS[@]}" -wmo -module-name "$name" -emit-module -emit-module-path "$OUT/$name.swiftmodule" \
    -c "$ROOT"/Sources/"$name"/*.swift -o "$OUT/$name.o"
}

# swift-nio's objects and module maps from the package's build, for the IRC target:
# one argument a line (object names have spaces).
nio_flags() {
  local release
  release=$(swift build -c "${CONFIG:-release}" --show-bin-path)
  [ -f "$release/Modules/NIOCore.swiftmodule" ] || { echo "fuzz: build the package first (swift build -c ${CONFIG:-release})" >&2; exit 1; }
  printf '%s\n' -I "$release/Modules"
  local deps=(NIOCore NIOEmbedded NIOConcurrencyHelpers _NIODataStructures _NIOBase64 CNIOAtomics CNIOLinux CNIODarwin
              CNIOWindows CNIOWASI Atomics _AtomicsShims DequeModule InternalCollectionsUtilities ContainersPreview)
  local d checkouts
  for d in "${deps[@]}"; do
    [ -d "$release/$d.build" ] || continue
    find "$release/$d.build" -name '*.o'
    if [ -f "$release/$d.build/module.modulemap" ]; then
      printf '%s\n' -Xcc "-fmodule-map-file=$release/$d.build/module.modulemap"
    fi
  done
  # C targets that ship their own module map (swift-atomics' shims, CNIOWindows).
  checkouts=$(dirname "$(dirname "$release")")/checkouts
  [ -d "$checkouts" ] || checkouts=$ROOT/.build/checkouts
  find "$checkouts/swift-atomics/Sources" "$checkouts/swift-nio/Sources" -path '*/include/module.modulemap' \
    -printf '-Xcc\n-fmodule-map-file=%p\n'
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
  local nio
  nio_flags >"$OUT/nio.args"
  mapfile -t nio <"$OUT/nio.args"
  "$SWIFTC" "${FLAGS[@]}" -module-name FuzzIRC Fuzz/IRC/*.swift Fuzz/Shared/*.swift Sources/ChatIRC/IRCLineDecoder.swift \
    Sources/ChatIRC/IRCMessage.swift "${nio[@]}" -o "$OUT/fuzz-irc"
  echo "fuzz: built ${TARGETS[*]} in $((SECONDS - start)) s"
}

# Inputs up to these sizes: an SEI payload's limit plus framing, IRC lines past the
# decoder's 4608-byte limit, a recording's first clusters.
max_len() {
  case $1 in
    envelope) echo 8192 ;; json) echo 4096 ;; irc) echo 12000 ;; matroska) echo 16384 ;;
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
  *) sed -n '2,13p' "$0"; exit 2 ;;
esac
