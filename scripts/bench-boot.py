#!/usr/bin/env python3
"""Linux boot benchmark: mipsjit against qemu-system-mipsel, side by side.

Boots the same kernel, initramfs, memory and command line in both, N times
each, interleaved, and reports medians of:
  - time to the first userland line ("mipsjit: userland up", printed by /init),
  - time to power-off (process exit),
  - peak memory (max RSS),
and, with --workload, wall time of busybox md5sum, sha256sum and gzip over
8 MiB inside the guest (timed on the host between marker lines). With --fpu,
both boot a 24Kf (the 24Kc with an FPU) and the guest instead runs
guest/user/fpbench.c (built static, hard-float) twice: the first run takes
Linux's lazy FPU switch in, the second runs with the FPU on.

  scripts/bench-boot.py [-n RUNS] [--workload | --fpu] [--mipsjit-args "..."]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from guests import ROOT, guests_dir
APPEND = "console=ttyS0 panic=-1"

WORKLOAD = r"""
head -c 8388608 /dev/zero > /dev/null
cat /bin/busybox /bin/busybox /bin/busybox /bin/busybox /bin/busybox | head -c 8388608 > /tmp/data
for cmd in md5sum sha256sum gzip; do
    echo "BENCH-START $cmd"
    if [ $cmd = gzip ]; then gzip -c /tmp/data > /tmp/data.gz; ls -l /tmp/data.gz; else $cmd /tmp/data; fi
    echo "BENCH-END $cmd"
done
"""

FPU_WORKLOAD = r"""
for run in 1 2; do
    echo "BENCH-START fpbench$run"
    /bin/fpbench > /dev/null
    echo "BENCH-END fpbench$run"
done
"""


def build_initrd(mipsjit, tmp, script, extra=()):
    """An initramfs running `script` as /test.sh, with `extra` (HOST:GUEST
    pairs) added."""
    path = os.path.join(tmp, "test.sh")
    with open(path, "w") as f:
        f.write(script)
    out = os.path.join(tmp, "initrd-%d.gz" % abs(hash(script)))
    busybox = os.path.join(guests_dir(), "busybox-1.35.0-static-mipsel")
    adds = [arg for pair in [path + ":/test.sh", *extra] for arg in ("--add", pair)]
    subprocess.run([mipsjit, "initramfs", "-o", out, "--busybox", busybox, *adds], check=True)
    return out


def build_fpbench(tmp):
    """guest/user/fpbench.c as a static hard-float mipsel program."""
    out = os.path.join(tmp, "fpbench")
    src = os.path.join(ROOT, "guest", "user", "fpbench.c")
    subprocess.run(["mipsel-linux-gnu-gcc", "-O2", "-static", "-march=mips32r2", src, "-o", out, "-lm"], check=True)
    return out


def run(cmd):
    """Runs cmd; returns (marker times, exit time, max RSS KiB, output)."""
    start = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    marks = {}
    out = []
    for raw in p.stdout:
        t = time.monotonic() - start
        line = raw.decode(errors="replace").strip()
        out.append(line)
        if "mipsjit: userland up" in line and "userland" not in marks:
            marks["userland"] = t
        for kind in ("BENCH-START", "BENCH-END"):
            if line.startswith(kind):
                marks[line] = t
    _, status, usage = os.wait4(p.pid, 0)
    end = time.monotonic() - start
    if status != 0 or "userland" not in marks:
        sys.exit("boot failed (%s, status %d):\n%s" % (" ".join(cmd), status, "\n".join(out[-20:])))
    return marks, end, usage.ru_maxrss, out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=3, help="runs of each (median reported)")
    ap.add_argument("--workload", action="store_true", help="also time md5sum/sha256sum/gzip in the guest")
    ap.add_argument("--fpu", action="store_true", help="boot a 24Kf and time fpbench in the guest, twice")
    ap.add_argument("--mipsjit-args", default="", help="extra arguments for mipsjit boot")
    ap.add_argument("--mipsjit", default=os.path.join(ROOT, "target", "release", "mipsjit"))
    a = ap.parse_args()
    kernel = os.path.join(guests_dir(), "vmlinuz-6.1.0-50-4kc-malta")
    with tempfile.TemporaryDirectory() as tmp:
        if a.fpu:
            initrd = build_initrd(a.mipsjit, tmp, FPU_WORKLOAD, [build_fpbench(tmp) + ":/bin/fpbench"])
        else:
            initrd = build_initrd(a.mipsjit, tmp, WORKLOAD if a.workload else "true\n")
        cpu = "24Kf" if a.fpu else "24Kc"
        qemu = ["qemu-system-mipsel", "-M", "malta", "-cpu", cpu, "-m", "256", "-kernel", kernel,
                "-initrd", initrd, "-append", APPEND, "-nographic", "-no-reboot"]
        ours = [a.mipsjit, "boot", "--cpu", cpu, "--kernel", kernel, "--initrd", initrd, "--append", APPEND,
                "--memory", "256", "--no-reboot"] + a.mipsjit_args.split()
        results = {"qemu": [], "mipsjit": []}
        for i in range(a.n):
            for name, cmd in (("qemu", qemu), ("mipsjit", ours)):
                results[name].append(run(cmd))
                m, end, rss, _ = results[name][-1]
                print("run %d %-8s userland %.2f s, power-off %.2f s, max RSS %d MiB" %
                      (i + 1, name, m["userland"], end, rss // 1024), file=sys.stderr)

    def med(name, f):
        return statistics.median(f(r) for r in results[name])

    rows = [("boot to userland (s)", lambda r: r[0]["userland"]), ("boot to power-off (s)", lambda r: r[1]),
            ("max RSS (MiB)", lambda r: r[2] / 1024)]
    if a.workload or a.fpu:
        for cmd in ("fpbench1", "fpbench2") if a.fpu else ("md5sum", "sha256sum", "gzip"):
            rows.append(("%s (s)" % cmd if a.fpu else "%s 8 MiB (s)" % cmd,
                         lambda r, c=cmd: r[0]["BENCH-END " + c] - r[0]["BENCH-START " + c]))
    print("| %-24s | %8s | %8s | %6s |" % ("median of %d" % a.n, "QEMU", "mipsjit", "ratio"))
    print("|%s|%s|%s|%s|" % ("-" * 26, "-" * 10, "-" * 10, "-" * 8))
    for label, f in rows:
        q, m = med("qemu", f), med("mipsjit", f)
        print("| %-24s | %8.2f | %8.2f | %6.2f |" % (label, q, m, m / q if q else float("nan")))


if __name__ == "__main__":
    main()
