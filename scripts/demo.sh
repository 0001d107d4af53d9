#!/usr/bin/env bash
# From a fresh clone to a guest running: install the cross compilers and
# QEMU if missing, build mipsjit and the guest programs, then run a
# benchmark kernel under mipsjit and under QEMU, with timings.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --release --quiet
make -s -C guest OUT=../build/guest
prog=build/guest/el/${1:-crc32}.elf
echo "== mipsjit run $prog"
time target/release/mipsjit run "$prog"
echo "== qemu-system-mipsel -M malta -kernel $prog"
time scripts/run-qemu.sh el "$prog"
