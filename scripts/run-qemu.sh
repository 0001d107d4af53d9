#!/usr/bin/env bash
# Run a bare-metal mipsjit guest ELF under QEMU's Malta board.
#
#   scripts/run-qemu.sh el|eb PROG.elf [extra QEMU args...]
#
# stdout carries exactly the guest's UART (ttyS0, ISA 0x3f8) output and
# nothing else; QEMU's own messages (e.g. "terminating on signal 15" on a
# timeout) go to stderr.  stdin is /dev/null.  The guest ends the run by
# writing 0x42 to the Malta SOFTRES register; with -no-reboot QEMU then exits
# with status 0.  A hung guest is killed after $TIMEOUT seconds (default 60;
# exit status 124, as timeout(1)).
#
# The command line is:
#   qemu-system-mipsel|qemu-system-mips -M malta -cpu 24Kc -m 256 \
#       -nographic -monitor none -serial stdio -no-reboot -kernel PROG.elf
# Notes:
#  * -cpu 24Kc: QEMU 7.2's default Malta CPU is the 24Kf (FPU: Config1.FP=1,
#    Status.CU1/FR writable), mipsjit models the FPU-less 24Kc (same PRId).
#    Override with QEMU_CPU=... (the FPU test program runs with QEMU_CPU=24Kf).
#  * -monitor none: with plain -nographic the monitor is multiplexed on stdio
#    (mon:stdio, Ctrl-A escapes); we want the serial port alone.
#  * -nodefaults must NOT be combined with -nographic alone: the UART then
#    has no backend and the output is lost (it works with -serial stdio).
set -euo pipefail

usage() {
    echo "usage: $0 el|eb PROG.elf [extra QEMU args...]" >&2
    exit 2
}
[ $# -ge 2 ] || usage

case "$1" in
    el) qemu="${QEMU_EL:-qemu-system-mipsel}" ;;
    eb) qemu="${QEMU_EB:-qemu-system-mips}" ;;
    *) usage ;;
esac
prog="$2"
shift 2
[ -f "$prog" ] || { echo "$0: no such file: $prog" >&2; exit 2; }

exec timeout --kill-after=5 "${TIMEOUT:-60}" \
    "$qemu" -M malta -cpu "${QEMU_CPU:-24Kc}" -m 256 \
    -nographic -monitor none -serial stdio -no-reboot \
    -kernel "$prog" "$@" </dev/null
