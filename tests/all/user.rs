//! User-mode emulation (`mipsjit user`): static mipsel Linux programs run
//! on the host, their system calls translated, against `qemu-mipsel`: the
//! same stdout and exit status.
//!
//! Needs `qemu-user` (qemu-mipsel) and `gcc-mipsel-linux-gnu`.

use crate::decode::guests_dir;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("user");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn busybox() -> PathBuf {
    let p = guests_dir().join("busybox-1.35.0-static-mipsel");
    assert!(p.is_file(), "missing {}: run scripts/fetch-guests.sh or set MIPSJIT_GUESTS", p.display());
    p
}

/// A file of unsorted lines, made once.
fn input() -> &'static Path {
    static F: OnceLock<PathBuf> = OnceLock::new();
    F.get_or_init(|| {
        let p = dir().join("input.txt");
        let mut s = String::new();
        let mut x: u32 = 12345;
        for i in 0..3000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            s.push_str(&format!("{} line {i} {}\n", x >> 16, "xyz".repeat((x % 7) as usize)));
        }
        std::fs::write(&p, s).unwrap();
        p
    })
}

fn mipsjit(jit: &str, program: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mipsjit"))
        .args(["user", "--jit", jit])
        .arg(program)
        .args(args)
        .env("MIPSJIT_TEST_VAR", "x=1")
        .output()
        .unwrap()
}

fn qemu(program: &Path, args: &[&str]) -> Output {
    Command::new("qemu-mipsel")
        .arg(program)
        .args(args)
        .env("MIPSJIT_TEST_VAR", "x=1")
        .output()
        .expect("qemu-mipsel runs (install qemu-user)")
}

/// Runs `program args` under mipsjit (each tier in `jits`) and qemu-mipsel:
/// the same stdout and exit status. Returns the stdout.
fn same_as_qemu(jits: &[&str], program: &Path, args: &[&str]) -> Vec<u8> {
    let want = qemu(program, args);
    assert!(want.status.code().is_some(), "qemu-mipsel {args:?}: {want:?}");
    for jit in jits {
        let got = mipsjit(jit, program, args);
        assert_eq!(
            String::from_utf8_lossy(&got.stdout),
            String::from_utf8_lossy(&want.stdout),
            "stdout of {args:?} (--jit {jit}); stderr: {}",
            String::from_utf8_lossy(&got.stderr)
        );
        assert_eq!(got.status.code(), want.status.code(), "exit status of {args:?} (--jit {jit})");
    }
    want.stdout
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn busybox_echo() {
    same_as_qemu(&["never", "auto"], &busybox(), &["echo", "hello"]);
}

#[test]
fn busybox_sh_arithmetic_and_loop() {
    let out = same_as_qemu(
        &["never", "always"],
        &busybox(),
        &["sh", "-c", "echo $((6*7)); for i in 1 2 3; do echo $i; done"],
    );
    assert_eq!(out, b"42\n1\n2\n3\n");
}

#[test]
fn busybox_exit_status() {
    same_as_qemu(&["auto"], &busybox(), &["sh", "-c", "exit 7"]);
    same_as_qemu(&["auto"], &busybox(), &["false"]);
}

#[test]
fn busybox_checksums_sort_wc() {
    let f = path_str(input());
    same_as_qemu(&["never", "auto"], &busybox(), &["md5sum", f]);
    same_as_qemu(&["auto"], &busybox(), &["sha256sum", f]);
    same_as_qemu(&["auto"], &busybox(), &["sort", f]);
    same_as_qemu(&["auto"], &busybox(), &["wc", "-c", f]);
    same_as_qemu(&["auto"], &busybox(), &["ls", "-l", f]);
    same_as_qemu(&["auto"], &busybox(), &["cat", f]);
    same_as_qemu(&["auto"], &busybox(), &["ls", "/nonexistent"]);
}

#[test]
fn busybox_gzip_round_trip() {
    let f = path_str(input());
    let gz = same_as_qemu(&["auto"], &busybox(), &["gzip", "-c", f]);
    let gz_path = dir().join("input.txt.gz");
    std::fs::write(&gz_path, &gz).unwrap();
    let back = same_as_qemu(&["auto"], &busybox(), &["gunzip", "-c", path_str(&gz_path)]);
    assert_eq!(back, std::fs::read(f).unwrap());
}

#[test]
fn busybox_sh_pipelines_and_command_substitution() {
    let f = path_str(input());
    let out = same_as_qemu(&["never", "auto"], &busybox(), &["sh", "-c", "echo a b c | wc -w"]);
    assert_eq!(out, b"3\n");
    let sorted = format!("cat {f} | sort | md5sum; gzip -c {f} | gunzip -c | md5sum");
    same_as_qemu(&["never", "auto"], &busybox(), &["sh", "-c", &sorted]);
    let out = same_as_qemu(&["never", "auto"], &busybox(), &["sh", "-c", "x=$(echo hi | tr a-z A-Z); echo \"<$x>\""]);
    assert_eq!(out, b"<HI>\n");
}

#[test]
fn busybox_sh_background_job_and_wait() {
    let script = "(sleep 0.2; echo late) & echo early; wait; echo done $?; sh -c 'exit 3'; echo $?";
    let out = same_as_qemu(&["never", "auto"], &busybox(), &["sh", "-c", script]);
    assert_eq!(out, b"early\nlate\ndone 0\n3\n");
}

const C_PROGRAM: &str = r#"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <sys/auxv.h>
extern char **environ;
int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "segv") == 0)
        *(volatile int *)0x80000010 = 1;
    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
    for (char **e = environ; *e; e++)
        if (strncmp(*e, "MIPSJIT_TEST_", 13) == 0) printf("env %s\n", *e);
    printf("pagesz=%lu phent=%lu clktck=%lu random=%d entry=%d\n", getauxval(AT_PAGESZ), getauxval(AT_PHENT),
           getauxval(AT_CLKTCK), getauxval(AT_RANDOM) != 0, getauxval(AT_ENTRY) != 0);
    volatile double x = 2.0;
    printf("%.10f %.6e %g %f\n", sqrt(x), x / 3.0, x * 1e100, atof("3.25") * x);
    char *p = malloc(1 << 20);
    memset(p, 7, 1 << 20);
    printf("malloc %d\n", p[12345] + p[(1 << 20) - 1]);
    return argc + 2;
}
"#;

/// Compiles the C program (static, unless `dynamic`) into `name`.
fn compile(name: &str, dynamic: bool) -> PathBuf {
    let src = dir().join(format!("{name}.c"));
    let out = dir().join(name);
    std::fs::write(&src, C_PROGRAM).unwrap();
    let status = Command::new("mipsel-linux-gnu-gcc")
        .args(if dynamic { &["-O2"][..] } else { &["-static", "-O2"][..] })
        .arg("-o")
        .arg(&out)
        .arg(&src)
        .arg("-lm")
        .status()
        .expect("mipsel-linux-gnu-gcc runs (install gcc-mipsel-linux-gnu)");
    assert!(status.success());
    out
}

/// The C program, compiled static once per test run.
fn c_program() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| compile("args", false))
}

#[test]
fn dynamic_executables_are_refused() {
    let got = mipsjit("auto", &compile("args-dynamic", true), &[]);
    assert_eq!(got.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&got.stderr).contains("dynamic executables are not supported yet"), "{got:?}");
}

#[test]
fn c_program_sees_argv_env_auxv_and_prints_doubles() {
    let out = same_as_qemu(&["never", "auto", "always"], c_program(), &["a", "b c", "-x"]);
    assert!(String::from_utf8_lossy(&out).contains("argv[2]=b c\n"));
}

/// `guest/user/signals.c`, compiled static once per test run.
fn signals_program() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("guest/user/signals.c");
        let out = dir().join("signals");
        let status = Command::new("mipsel-linux-gnu-gcc")
            .args(["-O2", "-static", "-o"])
            .arg(&out)
            .arg(&src)
            .status()
            .expect("mipsel-linux-gnu-gcc runs (install gcc-mipsel-linux-gnu)");
        assert!(status.success());
        out
    })
}

#[test]
fn signals_reach_guest_handlers_with_the_o32_frame() {
    // Faults with SA_SIGINFO and siglongjmp, raise, masks, sigpending, a
    // handler that edits uc_mcontext.pc, alarm, children killed by signals.
    let out = same_as_qemu(&["never", "auto", "always"], signals_program(), &[]);
    let out = String::from_utf8_lossy(&out);
    assert!(out.contains("skipped: v0=42\n") && out.contains("alarm: got=14\n"), "{out}");
}

#[test]
fn an_unhandled_signal_kills_the_guest_by_that_signal() {
    let got = mipsjit("auto", signals_program(), &["die"]);
    assert_eq!(got.status.code(), Some(128 + 15), "{got:?}");
    // A guest shell's child runs the program through execve, and dies of
    // the signal itself. (qemu-mipsel cannot serve here: without binfmt_misc
    // its execve runs MIPS programs on the host, which fails.)
    let cmd = format!("{} die; echo status $?", path_str(signals_program()));
    let got = mipsjit("auto", &busybox(), &["sh", "-c", &cmd]);
    assert_eq!(String::from_utf8_lossy(&got.stdout), "status 143\n", "{got:?}");
    assert_eq!(got.status.code(), Some(0));
}

#[test]
fn a_fault_kills_the_guest_with_its_signal() {
    let got = mipsjit("auto", c_program(), &["segv"]);
    assert_eq!(got.status.code(), Some(128 + 11), "{got:?}");
    assert!(String::from_utf8_lossy(&got.stderr).contains("signal 11"));
}
