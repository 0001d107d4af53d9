#!/usr/bin/env bash
# Fetch the guest images the tests and benchmarks use, from Debian's
# packages, for a machine without ../shared/guests.
#
#   scripts/fetch-guests.sh [DIR]      (default: build/guests)
#
# Then point the tests at them:  export MIPSJIT_GUESTS=$PWD/build/guests
#
# Debian keeps only the newest kernel ABI, so the kernel may be newer than
# the pinned one in ../shared/guests (6.1.0-50); the decoder test works with
# any of them. Needs root (or sudo) for `dpkg --add-architecture` and apt.
set -euo pipefail
dest="${1:-build/guests}"
mkdir -p "$dest"
dest="$(cd "$dest" && pwd)"
. "$(dirname "$0")/mipsel-apt.sh"
mipsel_apt

# The metapackage names the current kernel package; download that one.
kernel_pkg="$(apt-cache depends linux-image-4kc-malta:mipsel | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
[ -n "$kernel_pkg" ] || { echo "$0: cannot resolve linux-image-4kc-malta:mipsel" >&2; exit 1; }
kernel_pkg="${kernel_pkg%:mipsel}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download -q "$kernel_pkg:mipsel" busybox-static:mipsel)
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$work/root"; done

version="${kernel_pkg#linux-image-}"
cp "$work/root/boot/vmlinuz-$version" "$dest/vmlinuz-$version"
cp "$work/root/boot/config-$version" "$dest/config-$version"
bb_version="$(dpkg-deb -f "$work"/busybox-static_*.deb Version | sed 's/^1://; s/-.*//')"
cp "$work/root/bin/busybox" "$dest/busybox-$bb_version-static-mipsel"
for m in test_user_copy test_static_key_base test_static_keys; do
    find "$work/root/lib/modules" -name "$m.ko*" -exec cp {} "$dest/" \;
done
echo "guest images in $dest:"
ls -l "$dest"
