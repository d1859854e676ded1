#!/usr/bin/env bash
# Installs the built chatcast under PREFIX (staged under DESTDIR): the launcher, both
# GStreamer plugins where Debian's GStreamer looks under that prefix, the default model, the
# presets, the browser viewer's files, and the Swift runtime libraries they need, found through relative run paths so the
# install works without the Swift toolchain.
#   scripts/install.sh BUILD_DIR PLUGIN_DIR PREFIX [DESTDIR]
set -euo pipefail
build=$1 plugins=$2 prefix=$3 destdir=${4:-}
multiarch=$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)
multiarch=${multiarch/-unknown-/-}
root=$destdir$prefix
gstdir=lib/$multiarch/gstreamer-1.0
runtime=lib/chatcast/swift

install -d "$root/bin" "$root/$gstdir" "$root/$runtime" "$root/share/chatcast/pipelines" "$root/share/chatcast/web"
install -m 755 "$build/chatcast" "$root/bin/chatcast"
for p in swiftyolo chatsink; do install -m 755 "$plugins/libgst$p.so" "$root/$gstdir/"; done
install -m 644 "$plugins/swiftyolo-default.torchscript" "$root/$gstdir/"
install -m 644 pipelines/*.yaml "$root/share/chatcast/pipelines/"
find web -maxdepth 1 -type f ! -name '.*' -exec install -m 644 {} "$root/share/chatcast/web/" \;

# The Swift runtime libraries the binary and the plugins load from the toolchain.
toolchain=$(dirname "$(readlink -f "$(command -v swift)")")/../lib/swift/linux
for object in "$root/bin/chatcast" "$root/$gstdir"/libgst*.so; do
  ldd "$object" | awk -v dir="$(readlink -f "$toolchain")" 'index($3, dir) == 1 { print $3 }'
done | sort -u | while read -r lib; do install -m 644 "$lib" "$root/$runtime/"; done
# The runtime libraries find each other beside themselves.
for lib in "$root/$runtime"/*.so; do patchelf --set-rpath '$ORIGIN' "$lib"; done
patchelf --set-rpath "\$ORIGIN/../$runtime" "$root/bin/chatcast"
for p in "$root/$gstdir"/libgst*.so; do patchelf --set-rpath "\$ORIGIN/../../chatcast/swift" "$p"; done
echo "installed chatcast in $root (plugins in $prefix/$gstdir)"
