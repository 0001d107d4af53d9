#!/usr/bin/env bash
# A soak outside CI: Debian's mipsel CPython 3.11 running its own test
# suite under `mipsjit user` (and, with --qemu, under qemu-mipsel beside it).
#
#   scripts/cpython-suite.sh [--qemu] [TEST ...]
#
# The first run builds a sysroot in build/cpython-sysroot from Debian's
# mipsel packages (python3.11 and its libraries, the test suite), which
# needs root (or sudo) for `dpkg --add-architecture mipsel` and apt. With
# no TEST, runs a set that covers system calls: processes, threads,
# sockets, signals, files, memory maps, terminals, time. Each test module
# gets 15 minutes; the summary gives each one's result and time, and the
# exit status is 1 if any failed. Logs: build/cpython-logs/RUNNER.TEST.log.
set -euo pipefail
cd "$(dirname "$0")/.."
qemu=0
if [ "${1:-}" = "--qemu" ]; then qemu=1; shift; fi
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(test_os test_posix test_signal test_subprocess test_threading test_socket
    test_select test_selectors test_fcntl test_mmap test_time test_resource test_pty test_tempfile test_shutil
    test_file test_fileio test_sched test_math test_float test_struct test_zlib test_epoll test_poll
    test_faulthandler test_eintr test_threadsignals test_wait4 test_stat test_glob test_json test_re
    test_concurrent_futures test_asyncio)

root="$PWD/build/cpython-sysroot"
logs="$PWD/build/cpython-logs"
mipsjit="$PWD/target/release/mipsjit"
[ -x "$mipsjit" ] || { echo "$0: $mipsjit not found: cargo build --release" >&2; exit 2; }

if [ ! -x "$root/usr/bin/python3.11" ]; then
    . scripts/mipsel-apt.sh
    mipsel_apt
    work="$(mktemp -d)"
    chmod 755 "$work" # apt downloads as its own user
    trap 'rm -rf "$work"' EXIT
    # python3.11 and what its modules link against; the test suite is
    # architecture-independent.
    pkgs=(python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libc6 libgcc-s1 libatomic1 libexpat1 zlib1g
        libbz2-1.0 liblzma5 libffi8 libncursesw6 libreadline8 libsqlite3-0 libtinfo6 libuuid1 libnsl2
        libtirpc3 libdb5.3 libgdbm6 libssl3 libcrypt1 libgssapi-krb5-2 libkrb5-3 libk5crypto3 libcom-err2
        libkrb5support0 libkeyutils1)
    (cd "$work" && apt-get download -q "${pkgs[@]/%/:mipsel}" libpython3.11-testsuite)
    mkdir -p "$root"
    for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$root"; done
fi

mkdir -p "$logs"
runners=(mipsjit)
[ "$qemu" = 1 ] && runners+=(qemu)
failed=0
for t in "${tests[@]}"; do
    for r in "${runners[@]}"; do
        if [ "$r" = mipsjit ]; then cmd=("$mipsjit" user -L "$root"); else cmd=(qemu-mipsel -L "$root"); fi
        start=$(date +%s)
        status=0
        timeout 900 "${cmd[@]}" "$root/usr/bin/python3.11" -m test -v "$t" > "$logs/$r.$t.log" 2>&1 || status=$?
        result="$(grep -E '^Tests result' "$logs/$r.$t.log" | tail -1 || true)"
        [ "$status" -eq 0 ] || failed=1
        printf '%-22s %-8s %4ss  %s\n' "$t" "$r" "$(( $(date +%s) - start ))" "${result:-exit status $status}"
    done
done
exit "$failed"
