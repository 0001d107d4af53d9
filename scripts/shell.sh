#!/usr/bin/env bash
# From a fresh clone to a shell prompt inside Debian's Malta Linux kernel:
# build mipsjit, find (or fetch from Debian) the kernel and busybox-static,
# build an initramfs, boot it. The console is this terminal; Ctrl-A X quits,
# `poweroff -f` in the guest ends the run.
#
#   scripts/shell.sh [mipsjit boot options...]     e.g. --deterministic, --jit never
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
kernel=vmlinuz-6.1.0-50-4kc-malta
for d in "${MIPSJIT_GUESTS:-}" ../shared/guests build/guests; do
    if [ -n "$d" ] && [ -f "$d/$kernel" ]; then guests=$d; break; fi
done
if [ -z "${guests:-}" ]; then
    echo "no guest images: fetching them from Debian into build/guests" >&2
    scripts/fetch-guests.sh build/guests
    guests=build/guests
    kernel=$(cd "$guests" && ls vmlinuz-* | head -n1)
fi
busybox=$(ls "$guests"/busybox-*-static-mipsel | head -n1)
mkdir -p build
target/release/mipsjit initramfs -o build/initrd.gz --busybox "$busybox"
exec target/release/mipsjit boot --kernel "$guests/$kernel" --initrd build/initrd.gz \
    --append "console=ttyS0 panic=-1" "$@"
