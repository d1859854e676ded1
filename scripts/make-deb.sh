#!/usr/bin/env bash
# Builds build/deb/chatcast_VERSION_ARCH.deb: the `make install` of PREFIX=/usr, with the
# Debian 12 packages it runs on as dependencies.
#   scripts/make-deb.sh BUILD_DIR PLUGIN_DIR VERSION OUT_DIR
set -euo pipefail
build=$1 plugins=$2 version=$3 out=$4
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
bash scripts/install.sh "$build" "$plugins" /usr "$stage" >/dev/null
install -d "$stage/DEBIAN"
cat > "$stage/DEBIAN/control" <<CONTROL
Package: chatcast
Version: $version
Architecture: $arch
Maintainer: ChatCast <chatcast@localhost>
Section: video
Priority: optional
Depends: libgstreamer1.0-0, libgstreamer-plugins-base1.0-0, libgstreamer-plugins-bad1.0-0, libgstrtspserver-1.0-0,
 gstreamer1.0-plugins-base, gstreamer1.0-plugins-good, gstreamer1.0-plugins-bad, gstreamer1.0-plugins-ugly,
 gstreamer1.0-libav, gstreamer1.0-x, gstreamer1.0-alsa, gstreamer1.0-nice, libtorch1.13, libpango-1.0-0, libpangocairo-1.0-0, libcairo2,
 libsqlite3-0
Description: live video with chat and object detection
 chatcast serves, publishes and plays rooms: RTSP video with the room's IRC chat and
 the detections of a TorchScript model carried inside the H.264 stream as SEI.
CONTROL
mkdir -p "$out"
dpkg-deb --root-owner-group --build "$stage" "$out/chatcast_${version}_${arch}.deb" >/dev/null
echo "$out/chatcast_${version}_${arch}.deb"
