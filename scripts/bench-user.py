#!/usr/bin/env python3
"""User-mode benchmark: mipsjit user against qemu-mipsel and the host, side by side.

    scripts/bench-user.py [-n RUNS] [--mb MB] [--only NAME,...]
    scripts/bench-user.py --ab BIN[:VAR=VALUE...] BIN[:VAR=VALUE...] ... [-n RUNS]

Workloads:
  - the bare-metal benchmark kernels (guest/bench/*.c) built as Linux
    programs by `make -C guest linux`: static mipsel (-march=mips32r2) for
    mipsjit and qemu-mipsel, and the same C for the host (gcc -O2);
  - busybox 1.35 (static mipsel) `gzip -c`, `sha256sum` and `sort` over a
    few MiB of generated text; natively, the host's gzip, sha256sum and sort;
  - extra, outside the geometric means (the issue's set is the above):
    guest/user/fpbench.c, floating point, built the same way with -lm.

Each workload runs N times (default 3) on each runner, interleaved; the
table shows the median wall time (process start-up included) and the
ratios mipsjit/qemu-mipsel and mipsjit/native, with their geometric means.
With --ab, the runners are instead mipsjit binaries (or one binary under
different environment variables, as `target/release/mipsjit:MIPSJIT_HOT_THRESHOLD=300`),
reported against the first: the A/B test for a change. Each round of runs
gets a different environment size, which moves the host stack; on this
kind of machine where spill slots sit against guest data 4 KiB apart
changes a loop's speed by tens of percent (see docs/benchmarks.md).

Outputs must agree across the three runners (gzip: the decompressed
output, since busybox and GNU gzip compress differently); a mismatch or a
failed run is reported and makes the exit status 1. Everything runs with
LC_ALL=C.
"""

import argparse
import gzip
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

from guests import ROOT, guests_dir
BUILD = os.path.join(ROOT, "build", "guest")
KERNELS = ["crc32", "interp", "matmul", "sort", "strsearch"]
APPLETS = ["gzip", "sha256sum", "sort"]
RUNNERS = ["mipsjit", "qemu", "native"]



def make_text(path, mb):
    """A deterministic text file of `mb` MiB: lines of words and numbers
    (compressible like real text, with many distinct lines to sort)."""
    rng = random.Random(20261124)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 10)))
             for _ in range(5000)]
    out, size = [], 0
    while size < mb << 20:
        line = " ".join(rng.choice(words) for _ in range(rng.randint(3, 12)))
        line += " %d\n" % rng.randint(0, 10 ** rng.randint(1, 9))
        out.append(line)
        size += len(line)
    with open(path, "w") as f:
        f.write("".join(out))


def build_extra(out):
    """Builds guest/user/fpbench.c for mipsel and the host into `out`;
    returns (mips, native)."""
    src = os.path.join(ROOT, "guest", "user", "fpbench.c")
    mips, native = os.path.join(out, "fpbench-mipsel"), os.path.join(out, "fpbench-native")
    subprocess.run(["mipsel-linux-gnu-gcc", "-O2", "-static", "-march=mips32r2", src, "-o", mips, "-lm"], check=True)
    subprocess.run(["gcc", "-O2", src, "-o", native, "-lm"], check=True)
    return mips, native


def workloads(mipsjit, busybox, text, extra):
    """(name, {runner: argv}, normalize) for every workload."""
    w = []
    for k in KERNELS:
        mips = os.path.join(BUILD, "linux-mipsel", k)
        native = os.path.join(BUILD, "linux-native", k)
        cmds = {"mipsjit": [mipsjit, "user", mips], "qemu": ["qemu-mipsel", mips], "native": [native]}
        w.append((k, cmds, None))
    for a in APPLETS:
        args = ["-c", text] if a == "gzip" else [text]
        cmds = {
            "mipsjit": [mipsjit, "user", busybox, a] + args,
            "qemu": ["qemu-mipsel", busybox, a] + args,
            "native": [a] + args,
        }
        w.append(("busybox " + a, cmds, gzip.decompress if a == "gzip" else None))
    mips, native = extra
    w.append(("fpbench (extra)", {"mipsjit": [mipsjit, "user", mips], "qemu": ["qemu-mipsel", mips],
                                  "native": [native]}, None))
    return w


def run_once(argv, extra_env=None):
    env = dict(os.environ, LC_ALL="C", **(extra_env or {}))
    t0 = time.perf_counter()
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    return time.perf_counter() - t0, p.returncode, p.stdout, p.stderr


def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def ab(todo, specs, n):
    """Runs each workload's mipsjit command with every binary of `specs`,
    interleaved, and prints medians and ratios to the first; returns whether
    every run succeeded with the first's output."""
    variants = []
    for spec in specs:
        exe, *assignments = spec.split(":")
        if not os.path.exists(exe):
            sys.exit("%s not found" % exe)
        variants.append((exe, dict(kv.split("=", 1) for kv in assignments)))
    ok, ratios = True, [[] for _ in specs]
    print("| workload | " + " | ".join(specs) + " | " + " | ".join("/ first" for _ in specs[1:]) + " |")
    print("|---|" + "---:|" * (2 * len(specs) - 1))
    for name, cmds, normalize in todo:
        times = [[] for _ in specs]
        reference = None
        for i in range(n):
            for k, (exe, env) in enumerate(variants):
                # A different environment size each round moves the host stack.
                dt, status, out, err = run_once([exe] + cmds["mipsjit"][1:], dict(env, MIPSJIT_AB_PAD="x" * (272 * i)))
                times[k].append(dt)
                norm = normalize(out) if normalize and status == 0 else out
                if status != 0 or (reference is not None and norm != reference):
                    ok = False
                    print("%s: %s failed or disagreed (status %s)\n%s" % (name, specs[k], status,
                                                                         err.decode(errors="replace")[-2000:]))
                reference = norm if reference is None else reference
        med = [statistics.median(t) for t in times]
        for k in range(len(specs)):
            ratios[k].append(med[k] / med[0])
        print("| %s | " % name + " | ".join("%.3f" % m for m in med) + " | "
              + " | ".join("%.3f" % (m / med[0]) for m in med[1:]) + " |", flush=True)
    print("| **geomean** | " + " | ".join("" for _ in specs) + " | "
          + " | ".join("**%.3f**" % geomean(r) for r in ratios[1:]) + " |")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=3, help="runs of each workload on each runner (median reported)")
    ap.add_argument("--mb", type=int, default=4, help="MiB of text for the busybox workloads (default 4)")
    ap.add_argument("--only", default="", help="comma-separated workload names (e.g. crc32,sort,gzip)")
    ap.add_argument("--mipsjit", default=os.path.join(ROOT, "target", "release", "mipsjit"))
    ap.add_argument("--ab", nargs="+", metavar="BIN[:VAR=VALUE...]",
                    help="compare these mipsjit runs against the first instead (see above)")
    a = ap.parse_args()
    if a.ab:
        a.mipsjit = a.ab[0].split(":")[0]

    if not os.path.exists(a.mipsjit):
        sys.exit("%s not found: cargo build --release" % a.mipsjit)
    busybox = os.path.join(guests_dir(), "busybox-1.35.0-static-mipsel")
    if not os.path.exists(busybox):
        sys.exit("%s not found: scripts/fetch-guests.sh" % busybox)
    subprocess.run(["make", "-s", "-C", os.path.join(ROOT, "guest"), "linux"], check=True)

    tmp = tempfile.mkdtemp(prefix="bench-user-")
    text = os.path.join(tmp, "text")
    make_text(text, a.mb)
    only = [s for s in a.only.split(",") if s]
    todo = [w for w in workloads(a.mipsjit, busybox, text, build_extra(tmp))
            if not only or w[0] in only or any(part in only for part in w[0].split())]

    if a.ab:
        sys.exit(0 if ab(todo, a.ab, a.n) else 1)
    ok = True
    rows, ratios = [], {"qemu": [], "native": []}
    for name, cmds, normalize in todo:
        times = {r: [] for r in RUNNERS}
        reference = None
        for i in range(a.n):
            for r in RUNNERS:  # interleaved: noise hits every runner alike
                dt, status, out, err = run_once(cmds[r])
                times[r].append(dt)
                if status != 0:
                    ok = False
                    print("%s on %s: exit status %s\n%s" % (name, r, status, err.decode(errors="replace")[-2000:]))
                    continue
                norm = normalize(out) if normalize else out
                # The kernels print their own name and checksums; busybox
                # names its input file, which is the same for all three.
                if reference is None:
                    reference = (r, norm)
                elif norm != reference[1]:
                    ok = False
                    print("%s: output on %s (run %d) differs from %s" % (name, r, i + 1, reference[0]))
        med = {r: statistics.median(times[r]) for r in RUNNERS}
        rq, rn = med["mipsjit"] / med["qemu"], med["mipsjit"] / med["native"]
        if "(extra)" not in name:
            ratios["qemu"].append(rq)
            ratios["native"].append(rn)
        rows.append((name, med["mipsjit"], med["qemu"], med["native"], rq, rn))
        print("%-18s mipsjit %6.2f s  qemu-mipsel %6.2f s  native %6.2f s" % (name, *[med[r] for r in RUNNERS]),
              file=sys.stderr)

    print()
    print("median of %d, wall time (s); busybox over %d MiB of text" % (a.n, a.mb))
    print()
    print("| workload | mipsjit s | qemu-mipsel s | native s | mipsjit/qemu-mipsel | mipsjit/native |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, m, q, n, rq, rn in (r for r in rows if "(extra)" not in r[0]):
        print("| %s | %.2f | %.2f | %.3f | %.2f | %.1f |" % (name, m, q, n, rq, rn))
    gq, gn = geomean(ratios["qemu"]), geomean(ratios["native"])
    if ratios["qemu"]:
        print("| **geomean** | | | | **%.2f** | **%.1f** |" % (gq, gn))
    for name, m, q, n, rq, rn in (r for r in rows if "(extra)" in r[0]):
        print("| %s | %.2f | %.2f | %.3f | %.2f | %.1f |" % (name, m, q, n, rq, rn))
    if not ok:
        print("\nSOME RUNS FAILED OR DISAGREED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
