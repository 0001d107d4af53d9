//! The Linux boot: Debian's Malta kernel with a busybox initramfs, to
//! userland and back to power-off, with the guest running commands.
//!
//! Every boot here is deterministic (`--deterministic`), so consoles can be
//! compared byte for byte: two JIT boots, and the interpreter alone.

use crate::decode::guests_dir;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

const KERNEL: &str = "vmlinuz-6.1.0-50-4kc-malta";
const BUSYBOX: &str = "busybox-1.35.0-static-mipsel";
const APPEND: &str = "console=ttyS0 panic=-1";

/// What the guest runs: commands whose output the tests check.
const TEST_SCRIPT: &str = r#"echo "== uname"
uname -a
echo "== cpuinfo"
cat /proc/cpuinfo
echo "== md5"
printf 'The quick brown fox jumps over the lazy dog' > /tmp/fox
md5sum /tmp/fox
echo "== user copy"
insmod /lib/modules/test_user_copy.ko
dmesg | grep test_user_copy
echo "== static keys"
insmod /lib/modules/test_static_key_base.ko
insmod /lib/modules/test_static_keys.ko
dmesg | grep -i "static.key"
echo "== done"
"#;

fn dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("boot");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn guest(name: &str) -> PathBuf {
    let p = guests_dir().join(name);
    assert!(p.is_file(), "missing {}: run scripts/fetch-guests.sh or set MIPSJIT_GUESTS", p.display());
    p
}

/// Builds an initramfs with `mipsjit initramfs`; `files` are
/// `(guest path, contents)`.
fn initramfs(name: &str, files: &[(&str, &[u8])], init: Option<&str>) -> PathBuf {
    let d = dir().join(name);
    std::fs::create_dir_all(&d).unwrap();
    let out = d.join("initrd.gz");
    let mut args: Vec<String> =
        vec!["initramfs".into(), "-o".into(), out.display().to_string(), "--busybox".into(), path_str(&guest(BUSYBOX))];
    for (i, (guest_path, bytes)) in files.iter().enumerate() {
        let host = d.join(format!("file{i}"));
        std::fs::write(&host, bytes).unwrap();
        args.push("--add".into());
        args.push(format!("{}:{guest_path}", host.display()));
    }
    if let Some(init) = init {
        let host = d.join("init");
        std::fs::write(&host, init).unwrap();
        args.push("--init".into());
        args.push(path_str(&host));
    }
    let o = Command::new(env!("CARGO_BIN_EXE_mipsjit")).args(&args).output().unwrap();
    assert!(o.status.success(), "mipsjit initramfs failed: {}", String::from_utf8_lossy(&o.stderr));
    out
}

fn path_str(p: &Path) -> String {
    p.display().to_string()
}

/// The initramfs with the test script and the kernel's self-test modules.
fn test_initrd() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let m = |n: &str| std::fs::read(guest(n)).unwrap();
        let (uc, skb, sk) = (m("test_user_copy.ko"), m("test_static_key_base.ko"), m("test_static_keys.ko"));
        initramfs(
            "test",
            &[
                ("/test.sh", TEST_SCRIPT.as_bytes()),
                ("/lib/modules/test_user_copy.ko", &uc),
                ("/lib/modules/test_static_key_base.ko", &skb),
                ("/lib/modules/test_static_keys.ko", &sk),
            ],
            None,
        )
    })
}

/// Boots with `initrd` and extra arguments; returns the process output.
fn boot(initrd: &Path, extra: &[&str]) -> Output {
    let kernel = path_str(&guest(KERNEL));
    let initrd = path_str(initrd);
    let mut args = vec!["boot", "--kernel", &kernel, "--initrd", &initrd, "--append", APPEND];
    args.extend_from_slice(&["--deterministic", "--no-reboot", "--max-insns", "40000000000"]);
    args.extend_from_slice(extra);
    Command::new(env!("CARGO_BIN_EXE_mipsjit")).args(&args).stdin(Stdio::null()).output().unwrap()
}

fn console(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The console of a JIT boot of the test initramfs, shared by the tests.
fn jit_boot() -> &'static Output {
    static O: OnceLock<Output> = OnceLock::new();
    O.get_or_init(|| boot(test_initrd(), &["--jit", "auto"]))
}

fn assert_powered_off(o: &Output, what: &str) {
    let c = console(o);
    let tail: String = c.lines().rev().take(30).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
    assert!(
        o.status.success(),
        "{what}: exit {:?}\nstderr: {}\nconsole tail:\n{tail}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(c.contains("reboot: Power down"), "{what}: no power-down line; console tail:\n{tail}");
}

#[test]
fn linux_boots_to_userland_runs_commands_and_powers_off() {
    let o = jit_boot();
    assert_powered_off(o, "JIT boot");
    let c = console(o);
    for want in [
        // Lines QEMU prints for the same hardware.
        "CPU0 revision is: 00019300 (MIPS 24Kc)",
        "MIPS: machine is mti,malta",
        "CPU frequency 333.33 MHz",
        "ttyS0 at I/O 0x3f8 (irq = 4, base_baud = 115200) is a 16550A",
        "rtc_cmos 70.rtc: registered as rtc0",
        // The guest's commands.
        "Linux (none) 6.1.0-50-4kc-malta #1 SMP Debian",
        "cpu model\t\t: MIPS 24Kc V0.0",
        "tlb_entries\t\t: 16",
        "9e107d9d372bb6826bd81d3542a419d6  /tmp/fox",
        "test_user_copy: tests passed.",
        "== done",
    ] {
        assert!(c.contains(want), "console lacks {want:?}:\n{c}");
    }
    // Both static-key modules loaded: insmod prints nothing on success.
    let keys = c.split("== static keys").nth(1).unwrap_or("");
    assert!(!keys.contains("insmod:"), "a static-keys module failed:\n{keys}");
}

#[test]
fn deterministic_boots_print_byte_identical_consoles() {
    let again = boot(test_initrd(), &["--jit", "auto"]);
    assert_powered_off(&again, "second JIT boot");
    assert_eq!(console(jit_boot()), console(&again), "two deterministic boots differ");
}

#[test]
fn the_interpreter_alone_boots_to_the_same_console() {
    let o = boot(test_initrd(), &["--jit", "never"]);
    assert_powered_off(&o, "interpreter boot");
    assert_eq!(console(jit_boot()), console(&o), "interpreter and JIT boots differ");
}

#[test]
fn a_kernel_panic_is_reported_and_exits_nonzero() {
    // An init that exits makes the kernel panic; panic=-1 asks for a
    // reboot, which --no-reboot turns into exit status 1 with a message.
    let initrd = initramfs("panic", &[], Some("#!/bin/sh\necho init exits now\nexit 3\n"));
    let o = boot(&initrd, &["--jit", "auto"]);
    let c = console(&o);
    assert!(c.contains("init exits now"), "{c}");
    assert!(c.contains("Kernel panic - not syncing: Attempted to kill init!"), "{c}");
    assert_eq!(o.status.code(), Some(1), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("guest requested a reset at pc"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// Floating point in userland: busybox awk (hard-float o32) on the 24Kf's
/// FPU must print what the 24Kc's kernel emulator prints, and what QEMU
/// `-cpu 24Kf` printed for the same script.
#[test]
fn a_24kf_runs_userland_floating_point_on_its_fpu() {
    const SCRIPT: &str = r#"echo "== fpu"
grep "cpu model" /proc/cpuinfo
awk 'BEGIN { printf "%.17g %.17g %.17g\n", 1/3, 2/7*1e-300, 1e300*1e10; s = 0; for (i = 1; i <= 20000; i++) s += 1/i; printf "%.17g %d %.6e\n", s, int(-7.9), 123456789.123456789 }'
echo "== done"
"#;
    const RESULTS: &str = "0.33333333333333331 2.8571428571428571e-301 inf\n10.48072821722932 -7 1.234568e+08\n";
    let initrd = initramfs("fpu", &[("/test.sh", SCRIPT.as_bytes())], None);
    for (cpu, model) in [("24Kc", "MIPS 24Kc V0.0\n"), ("24Kf", "MIPS 24Kc V0.0  FPU V0.0\n")] {
        let o = boot(&initrd, &["--jit", "auto", "--cpu", cpu]);
        assert_powered_off(&o, cpu);
        let c = console(&o).replace('\r', "");
        let out = c.split("== fpu\n").nth(1).and_then(|s| s.split("== done").next()).unwrap_or("");
        assert_eq!(out, format!("cpu model\t\t: {model}{RESULTS}"), "{cpu}:\n{c}");
    }
}

#[test]
fn a_bigger_tlb_is_what_the_kernel_sees() {
    // Config1.MMUSize follows --tlb-entries, and Linux sizes its TLB code
    // from it (local_flush_tlb_all walks every entry with Index).
    let initrd = initramfs("tlb64", &[("/test.sh", b"grep tlb_entries /proc/cpuinfo\n")], None);
    let o = boot(&initrd, &["--jit", "auto", "--tlb-entries", "64"]);
    assert_powered_off(&o, "64-entry TLB boot");
    assert!(console(&o).contains("tlb_entries\t\t: 64"), "{}", console(&o));
}
