#!/usr/bin/env bash
# Installs the Debian 12 packages ChatCast builds, tests and benchmarks with.
# Idempotent: does nothing when everything is already there.
set -euo pipefail

packages=(
  pkg-config
  # build
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  libgstrtspserver-1.0-dev libtorch-dev libpango1.0-dev libcairo2-dev
  # run
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-rtsp gstreamer1.0-x gstreamer1.0-alsa
  # model training, tests and benchmarks
  python3 python3-torch python3-numpy python3-opencv python3-skimage python3-pil ffmpeg
  python3-gi python3-gst-1.0 gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 time
  # the Ultralytics benchmark peer runs on Debian's torch 1.13 (venv below)
  python3-venv python3-torchvision python3-scipy python3-matplotlib python3-yaml python3-psutil python3-requests
  python3-pandas
  # players the RTSP tests play every room with
  mpv
  # WebRTC for browsers (webrtcbin's ICE) and the browser the viewer page is tested in
  gstreamer1.0-nice chromium
  # a third-party HTTP client for the web tests
  curl
  # make install / make deb: relocatable run paths
  patchelf
  # a virtual display for the viewer-window test
  xvfb
  # chat: SQLite for history; real IRC software for interop tests and the chat benchmark
  libsqlite3-dev openssl python3-irc irssi weechat-headless ngircd inspircd
)

# Ultralytics 8.0.200 (the last release that runs on torch 1.13) for `make bench`, in a venv
# that sees Debian's torch; its pinned dependencies would pull a newer torch, so they are
# left out and the few it imports come from Debian or here. Not fatal: only the benchmark
# needs it, and it says so when it is missing.
bench_venv() {
  local venv
  venv="$(cd "$(dirname "$0")/.." && pwd)/build/ultralytics-venv"
  [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import ultralytics" 2>/dev/null && return 0
  mkdir -p "$(dirname "$venv")"
  if /usr/bin/python3 -m venv --system-site-packages "$venv" \
      && "$venv/bin/pip" install -q --no-deps ultralytics==8.0.200 lapx==0.11.1 tqdm py-cpuinfo; then
    echo "install-deps: Ultralytics 8.0.200 in $venv"
  else
    echo "install-deps: warning: could not install Ultralytics from PyPI; bench/ultralytics_bench.py will skip" >&2
  fi
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  bench_venv
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# IRC daemons must not start as system services on port 6667: tests start their own.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod +x "$policy"
  trap '$sudo rm -f "$policy"' EXIT  # removed even when the install fails
fi
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
bench_venv
