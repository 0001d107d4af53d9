//! Guest programs (guest/tests/*.{c,S}) against QEMU: each self-checking
//! program is cross-compiled for both byte orders and run under
//! `qemu-system-mips{el,}` and under mipsjit in both tiers; all three
//! consoles must be byte-identical. Programs run on a 24Kc, except those
//! whose source says `mipsjit-cpu: 24Kf` (QEMU `-cpu 24Kf`, `--cpu 24Kf`).
//!
//! Needs Debian's `gcc-mipsel-linux-gnu`, `gcc-mips-linux-gnu` and
//! `qemu-system-mips` (`.ci/run` installs them).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Builds every guest program once per test run; returns the output dir.
fn built() -> &'static Path {
    static OUT: OnceLock<PathBuf> = OnceLock::new();
    OUT.get_or_init(|| {
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("guest");
        let status = Command::new("make")
            .args(["-s", "-C"])
            .arg(root().join("guest"))
            .arg(format!("OUT={}", out.display()))
            .status()
            .expect("make runs (install make)");
        assert!(
            status.success(),
            "building guest programs failed: install gcc-mipsel-linux-gnu and gcc-mips-linux-gnu"
        );
        out
    })
}

fn test_programs() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("guest/tests"))
        .expect("guest/tests exists")
        .filter_map(|e| {
            let p = e.ok()?.path();
            let ext = p.extension()?.to_str()?;
            (ext == "c" || ext == "S").then(|| p.file_stem()?.to_str().map(String::from))?
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The core a program runs on: 24Kc (QEMU's and mipsjit's `-cpu` name),
/// unless its source says `mipsjit-cpu: 24Kf` (the FPU tests).
fn cpu_of(name: &str) -> &'static str {
    let says_24kf = ["c", "S"].iter().any(|ext| {
        std::fs::read_to_string(root().join(format!("guest/tests/{name}.{ext}")))
            .is_ok_and(|src| src.contains("mipsjit-cpu: 24Kf"))
    });
    if says_24kf { "24Kf" } else { "24Kc" }
}

fn run(cmd: &mut Command) -> (String, bool) {
    let out = cmd.output().expect("command runs");
    (String::from_utf8_lossy(&out.stdout).into_owned(), out.status.success())
}

fn mipsjit(jit: &str, cpu: &str, elf: &Path) -> (String, bool) {
    run(Command::new(env!("CARGO_BIN_EXE_mipsjit"))
        .args(["run", "--jit", jit, "--cpu", cpu, "--max-insns", "500000000"])
        .arg(elf))
}

fn qemu(endian: &str, cpu: &str, elf: &Path) -> (String, bool) {
    run(Command::new(root().join("scripts/run-qemu.sh")).arg(endian).arg(elf).env("TIMEOUT", "60").env("QEMU_CPU", cpu))
}

fn check_endian(endian: &str) {
    let programs = test_programs();
    assert!(programs.len() >= 8, "expected the guest test programs, found {programs:?}");
    let mut failures = Vec::new();
    for name in &programs {
        let elf = built().join(endian).join(format!("{name}.elf"));
        let cpu = cpu_of(name);
        let (reference, ok) = qemu(endian, cpu, &elf);
        assert!(ok && !reference.is_empty(), "{name} ({endian}, {cpu}) did not run under QEMU:\n{reference}");
        // The programs check themselves too: QEMU must agree with the manual.
        assert!(reference.ends_with("RESULT: PASS\n"), "{name} ({endian}, {cpu}) fails under QEMU:\n{reference}");
        for jit in ["never", "always"] {
            let (ours, ok) = mipsjit(jit, cpu, &elf);
            if !ok || ours != reference {
                failures.push(format!(
                    "{name} ({endian}, {cpu}, --jit={jit}): {}\n--- qemu\n{reference}--- mipsjit\n{ours}",
                    if ok { "output differs" } else { "exited non-zero" }
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn little_endian_programs_match_qemu_in_both_tiers() {
    check_endian("el");
}

#[test]
fn big_endian_programs_match_qemu_in_both_tiers() {
    check_endian("eb");
}
