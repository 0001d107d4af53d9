#!/usr/bin/env bash
# Benchmarks: QEMU vs mipsjit (--jit=auto and --jit=never), interleaved,
# median of N runs, output equality checked.  See scripts/bench-qemu.py -h.
#   scripts/bench-qemu.sh [-n RUNS] [-e el|eb] [--build] [KERNEL...]
exec python3 "$(dirname "$0")/bench-qemu.py" "$@"
