#!/usr/bin/env bash
# ThreadSanitizer over the tests that run our code on many threads: elements in-process and
# under gst-launch, `chatcast serve` (RTSP bridge, WebRTC sessions, chat), the IRC server and
# client. `make test-tsan`; its own target, not part of `make test`: the instrumented build of
# the whole package alone takes longer on CI's 2 cores than `make test`'s budget leaves.
#
#   scripts/tsan.sh build          the package and its tests with -sanitize=thread (.build-tsan)
#   scripts/tsan.sh run [FILTER]   stage its plugins, run the threaded tests (or FILTER, as
#                                  swift test --filter takes it); any report or crash fails the
#                                  run (timing assertions missed under the slowdown are listed)
#
# Reports go to build/tsan/report.PID (one file per instrumented process: the test runner,
# every `chatcast` and every gst-launch it starts). Suppressions (Tests/tsan.supp) name only
# third-party libraries, each with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SCRATCH=$ROOT/.build-tsan
BUILT=$SCRATCH/release
STAGE=$ROOT/build/tsan
# The tests that exercise threads (scripts/tsan.sh run FILTER runs others). Left out: those
# that measure speed or wait on kill -9 and recorded files (RecordingTests, the relay's frame
# rate, the X window), whose timing the sanitizer's slowdown breaks without telling anything.
THREADED='ChatIRCTests|ChatInjectTests|ChatParseTests|SwiftYoloHarnessTests|ElementGlueTests|ElementContractTests'
THREADED+='|ForwardingQueueTests|ChatIRCElementTests|HostileChatServerTests|ChatRTSPTests|AppSourceBoundTests|WebInputsTests'
THREADED+='|ServeUnderLoadTests|ServeBadInputTests|BrowserInputsTests/testEndedSessionsLeaveNoThreadsBehind'
THREADED+='|ServeTests/(testAViewerThatKnowsOnlyTheRoom|testEightViewersFourPausing|testThirtyTwoViewersArriving|testViewersArrivingAsTheLastOnesLeave|testFFmpegFFprobeAndRtspsrc)'
THREADED+='|PublishersAndPlayersTests/testAViewerOfTheVideoAlone'

# What gst-launch children preload to run instrumented plugins: the sanitizer's runtime, and
# the toolchain's libdispatch that its interceptors need.
runtime() {
  local lib tsan dispatch
  lib=$(dirname "$(dirname "$(command -v swift)")")/lib
  tsan=$(find "$lib/clang" -name 'libclang_rt.tsan-x86_64.so' | head -n 1)
  dispatch=$lib/swift/linux/libdispatch.so
  [ -n "$tsan" ] && [ -f "$dispatch" ] && echo "$tsan $dispatch"
}

build() {
  local start=$SECONDS
  # Executables export their symbols: a plugin they load resolves the sanitizer from them.
  swift build -c release --sanitize=thread --build-tests --scratch-path "$SCRATCH" -Xlinker --export-dynamic
  echo "tsan: built in $((SECONDS - start)) s"
}

run() {
  local filter=${1:-$THREADED}
  [ -x "$BUILT/chatcast" ] || { echo "tsan: build first (scripts/tsan.sh build)" >&2; exit 1; }
  rm -rf "$STAGE"
  mkdir -p "$STAGE/gst-plugins"
  install -m 755 "$BUILT"/libgstswiftyolo.so "$BUILT"/libgstchatsink.so "$STAGE/gst-plugins/"
  install -m 644 models/ball-yolov8.torchscript "$STAGE/gst-plugins/swiftyolo-default.torchscript"
  /usr/bin/python3 Tests/fixtures/make_fixtures.py build/test-fixtures >/dev/null
  local preload
  preload=$(runtime)
  [ -n "$preload" ] || { echo "tsan: no libclang_rt.tsan in the Swift toolchain" >&2; exit 1; }
  export CHATCAST_BUILD_DIR=$BUILT CHATCAST_PLUGINS=$STAGE/gst-plugins CHATCAST_CHILD_PRELOAD=$preload
  export CHATCAST_FIXTURES=$ROOT/build/test-fixtures
  export GST_PLUGIN_PATH=$STAGE/gst-plugins GST_REGISTRY=$STAGE/registry.bin
  # gst-plugin-scanner has no sanitizer runtime to load instrumented plugins with: scan in process.
  export GST_REGISTRY_FORK=no
  export SWIFT_BACKTRACE=enable=no
  export TSAN_OPTIONS="log_path=$STAGE/report:suppressions=$ROOT/Tests/tsan.supp:halt_on_error=0:history_size=4:report_signal_unsafe=0"
  local status=0
  swift test -c release --sanitize=thread --scratch-path "$SCRATCH" --skip-build --disable-swift-testing --filter "$filter" \
    >"$STAGE/tests.log" 2>&1 || status=$?
  grep -E "Executed .* tests" "$STAGE/tests.log" | tail -n 1 || true
  local reports
  reports=$(find "$STAGE" -name 'report.*' -size +0 | sort)
  if [ -n "$reports" ]; then
    echo "tsan: $(echo "$reports" | wc -l) processes reported races:"
    for r in $reports; do
      echo "== $r"
      grep -E "^WARNING: ThreadSanitizer|^    #[0-3] " "$r" | head -n 40 || true
    done
    exit 1
  fi
  # A crash fails the run; a timing assertion that missed under the sanitizer's 5–15×
  # slowdown does not (make test judges those), but it is listed.
  if grep -qE "Program crashed|Fatal error|exited with signal|Exited with unexpected signal" "$STAGE/tests.log"; then
    echo "tsan: a process crashed under the sanitizer (log: $STAGE/tests.log):"
    grep -E -B2 -A12 "Program crashed|Fatal error|signal" "$STAGE/tests.log" | head -n 60 || true
    exit 1
  fi
  if [ "$status" != 0 ]; then
    echo "tsan: tests that missed under the slowdown (not judged here; log: $STAGE/tests.log):"
    grep -E "failed \(" "$STAGE/tests.log" | head -n 40 || true
  fi
  echo "tsan: no reports"
}

case ${1:-} in
  build) build ;;
  run) shift; run "${1:-}" ;;
  *) sed -n '2,14p' "$0"; exit 2 ;;
esac
