#!/usr/bin/env bash
# Install the Debian packages the tests and benchmarks need (Debian 12):
# the MIPS cross compilers, the mipsel libc headers and libraries the user-mode
# test programs link against (a Recommends of the compiler, which
# --no-install-recommends would leave out), binutils (objdump for the decoder
# test), and QEMU (the reference we compare against) with the option ROMs of
# the Malta board's default PCI devices (ipxe-qemu for its pcnet NIC, seabios
# for its Cirrus VGA: also recommends, without which qemu-system-mips refuses
# to start). Skips what is already there.
set -euo pipefail
pkgs=(make gcc-mipsel-linux-gnu libc6-dev-mipsel-cross gcc-mips-linux-gnu binutils-mipsel-linux-gnu qemu-system-mips ipxe-qemu seabios qemu-user)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
