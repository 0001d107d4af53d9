#!/usr/bin/env python3
"""Benchmark the guest kernels under QEMU and under mipsjit, side by side.

    scripts/bench-qemu.py [options] [KERNEL...]

For each benchmark ELF (default: every guest/bench/*.c|S, built into
BUILD/<endian>/NAME.elf by `make -C guest`) this runs, interleaved and N
times each (default 3):

    qemu            scripts/run-qemu.sh <endian> NAME.elf
    mipsjit         target/release/mipsjit run --jit=auto  NAME.elf
    mipsjit-interp  target/release/mipsjit run --jit=never NAME.elf

takes the median wall time of each, checks that every run printed exactly
the same bytes as the first QEMU run (and exited with status 0), and prints
a table with the ratio mipsjit/qemu and the geometric mean of the ratios.
If the mipsjit binary does not exist yet, only QEMU is measured.
Exit status: 0 if all outputs matched and all runs succeeded, 1 otherwise.
"""

import argparse
import re
import math
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def default_kernels():
    names = set()
    bench_dir = os.path.join(ROOT, "guest", "bench")
    for f in os.listdir(bench_dir) if os.path.isdir(bench_dir) else []:
        base, ext = os.path.splitext(f)
        if ext in (".c", ".S"):
            names.add(base)
    return sorted(names)


def run_once(cmd, timeout):
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        dt = time.perf_counter() - t0
        return dt, p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        dt = time.perf_counter() - t0
        return dt, "timeout", e.stdout or b"", e.stderr or b""


def fmt_s(v):
    return "-" if v is None else f"{v:.2f}"


def fmt_r(v):
    return "-" if v is None else f"{v:.2f}x"


def geomean(xs):
    xs = [x for x in xs if x is not None and x > 0]
    if not xs:
        return None
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("kernels", nargs="*", help="benchmark names (default: all in guest/bench)")
    ap.add_argument("-n", "--runs", type=int, default=3, help="runs per configuration (median)")
    ap.add_argument("-e", "--endian", choices=("el", "eb"), default="el")
    ap.add_argument("-b", "--build-dir", default=os.path.join(ROOT, "build", "guest"),
                    help="OUT directory of `make -C guest` (default build/guest)")
    ap.add_argument("--mipsjit", default=os.path.join(ROOT, "target", "release", "mipsjit"),
                    help="mipsjit binary (default target/release/mipsjit)")
    ap.add_argument("--modes", default="auto,never",
                    help="comma-separated --jit modes to run (default auto,never)")
    ap.add_argument("--qemu-only", action="store_true", help="do not run mipsjit")
    ap.add_argument("--timeout", type=float, default=600.0, help="per-run timeout in seconds")
    ap.add_argument("--build", action="store_true", help="run `make -C guest OUT=BUILD` first")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every run")
    args = ap.parse_args()

    if args.build:
        subprocess.run(["make", "-C", os.path.join(ROOT, "guest"), f"OUT={os.path.abspath(args.build_dir)}"],
                       check=True, stdout=subprocess.DEVNULL)

    kernels = args.kernels or default_kernels()
    elfs = {}
    for k in kernels:
        path = os.path.join(args.build_dir, args.endian, k + ".elf")
        if not os.path.isfile(path):
            print(f"error: {path} not found (build with: make -C guest OUT={args.build_dir})", file=sys.stderr)
            return 2
        elfs[k] = path

    run_qemu = os.path.join(ROOT, "scripts", "run-qemu.sh")
    configs = [("qemu", lambda elf: [run_qemu, args.endian, elf])]
    modes = [m for m in args.modes.split(",") if m]
    if args.qemu_only:
        modes = []
    elif not (os.path.isfile(args.mipsjit) and os.access(args.mipsjit, os.X_OK)):
        print(f"note: {args.mipsjit} not found; measuring QEMU only "
              f"(build it with cargo build --release)", file=sys.stderr)
        modes = []
    for m in modes:
        configs.append((f"jit={m}", lambda elf, m=m: [args.mipsjit, "run", "--stats", f"--jit={m}", elf]))

    env_timeout = str(int(args.timeout))
    os.environ["TIMEOUT"] = env_timeout   # for run-qemu.sh

    times = {(k, c): [] for k in kernels for c, _ in configs}
    reference = {}          # kernel -> stdout of the first QEMU run
    icount = {}             # kernel -> guest instructions (from mipsjit --stats)
    problems = []

    for r in range(args.runs):
        for k in kernels:
            for cname, mk in configs:
                cmd = mk(elfs[k])
                dt, rc, out, err = run_once(cmd, args.timeout + 10)
                ok = True
                if rc != 0:
                    ok = False
                    problems.append(f"{k} [{cname}] run {r}: exit status {rc}"
                                    + (f": {err.decode(errors='replace').strip()[:200]}" if err else ""))
                if k not in reference and cname == "qemu" and rc == 0:
                    reference[k] = out
                elif k in reference and out != reference[k]:
                    ok = False
                    problems.append(f"{k} [{cname}] run {r}: output differs from QEMU's")
                m = re.search(rb"mipsjit: (\d+) instructions", err or b"")
                if m:
                    icount[k] = int(m.group(1))
                if ok:
                    times[(k, cname)].append(dt)
                if args.verbose:
                    print(f"  run {r} {k:10s} {cname:12s} {dt:7.2f} s {'ok' if ok else 'BAD'}",
                          file=sys.stderr)

    def med(k, c):
        t = times.get((k, c))
        return statistics.median(t) if t else None

    cols = [c for c, _ in configs]
    hdr = ["kernel", "qemu s"]
    if "jit=auto" in cols:
        hdr.append("mipsjit s")
    other = [c for c in cols if c not in ("qemu", "jit=auto")]
    hdr += [("interp s" if c == "jit=never" else f"{c} s") for c in other]
    ratio_cols = [c for c in cols if c != "qemu"]
    hdr += [("mipsjit/qemu" if c == "jit=auto" else
             ("interp/qemu" if c == "jit=never" else f"{c}/qemu")) for c in ratio_cols]

    rows = []
    ratios = {c: [] for c in ratio_cols}
    for k in kernels:
        q = med(k, "qemu")
        row = [k, fmt_s(q)]
        order = (["jit=auto"] if "jit=auto" in cols else []) + other
        for c in order:
            row.append(fmt_s(med(k, c)))
        for c in ratio_cols:
            v = med(k, c)
            rt = v / q if (v is not None and q) else None
            ratios[c].append(rt)
            row.append(fmt_r(rt))
        rows.append(row)
    gm = ["geomean", ""] + [""] * (len(cols) - 1) + [fmt_r(geomean(ratios[c])) for c in ratio_cols]

    widths = [max(len(str(x)) for x in col) for col in zip(hdr, *rows, gm)]
    line = lambda cells: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    print(f"# {args.endian}, {args.runs} run(s) each, median wall seconds (including emulator start-up)")
    print(line(hdr))
    print(line(["-" * w for w in widths]))
    for row in rows:
        print(line(row))
    if ratio_cols:
        print(line(gm))
    if icount and ratio_cols:
        print("\n# guest throughput, millions of guest instructions per second (wall, incl. start-up)")
        print("kernel      insns (M)  " + "  ".join(f"{c:>10s}" for c in ["qemu"] + ratio_cols))
        for k in kernels:
            n = icount.get(k)
            if not n:
                continue
            mips = [n / 1e6 / med(k, c) if med(k, c) else float("nan") for c in ["qemu"] + ratio_cols]
            print(f"{k:10s}  {n / 1e6:9.0f}  " + "  ".join(f"{x:10.0f}" for x in mips))

    if problems:
        print("\nPROBLEMS:", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
