//! User-mode emulation (`mipsjit user`): mipsel Linux programs (static
//! busybox; C programs of `guest/user`, dynamic through the sysroot's
//! ld.so, PIE, fixed-address and static) run on the host, their system
//! calls translated, against `qemu-mipsel`: the same stdout and exit status.
//!
//! Needs `qemu-user` (qemu-mipsel) and `gcc-mipsel-linux-gnu` (which brings
//! the o32 libraries in [`SYSROOT`]).

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

/// Where Debian's cross toolchain keeps the mipsel libraries and ld.so.
const SYSROOT: &str = "/usr/mipsel-linux-gnu";

fn mipsjit(jit: &str, program: &Path, args: &[&str]) -> Output {
    mipsjit_in(None, jit, program, args)
}

/// A command that runs `program` for at most two minutes: a guest that
/// hangs (a lost futex wake-up, say) fails its test with status 124
/// instead of stalling the suite.
fn limited(program: &str) -> Command {
    let mut c = Command::new("timeout");
    c.args(["--kill-after=5", "120", program]);
    c
}

/// Runs `program` under mipsjit, with `-L sysroot` if given.
fn mipsjit_in(sysroot: Option<&str>, jit: &str, program: &Path, args: &[&str]) -> Output {
    limited(env!("CARGO_BIN_EXE_mipsjit"))
        .args(["user", "--jit", jit])
        .args(sysroot.map(|s| ["-L", s]).iter().flatten())
        .arg(program)
        .args(args)
        .env("MIPSJIT_TEST_VAR", "x=1")
        .output()
        .unwrap()
}

fn qemu(sysroot: Option<&str>, program: &Path, args: &[&str]) -> Output {
    limited("qemu-mipsel")
        .args(sysroot.map(|s| ["-L", s]).iter().flatten())
        .arg(program)
        .args(args)
        .env("MIPSJIT_TEST_VAR", "x=1")
        .output()
        .expect("qemu-mipsel runs (install qemu-user)")
}

/// Runs `program args` under mipsjit (each tier in `jits`) and qemu-mipsel:
/// the same stdout and exit status. Returns the stdout.
fn same_as_qemu(jits: &[&str], program: &Path, args: &[&str]) -> Vec<u8> {
    same_as_qemu_in(None, jits, program, args)
}

/// [`same_as_qemu`], both given `-L sysroot` if any.
fn same_as_qemu_in(sysroot: Option<&str>, jits: &[&str], program: &Path, args: &[&str]) -> Vec<u8> {
    let want = qemu(sysroot, program, args);
    assert!(want.status.code().is_some(), "qemu-mipsel {args:?}: {want:?}");
    for jit in jits {
        let got = mipsjit_in(sysroot, jit, program, args);
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

/// Asserts that `out` (a guest's stdout) has each of `wants` in it.
fn assert_contains_all(out: &[u8], wants: &[&str]) {
    let out = String::from_utf8_lossy(out);
    for want in wants {
        assert!(out.contains(want), "{want:?} in\n{out}");
    }
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
    std::fs::write(&src, C_PROGRAM).unwrap();
    gcc(&src, name, if dynamic { &[] } else { &["-static"] })
}

/// Compiles `src` with `-O2 flags... -lm` into `name` (dynamic, and PIE as
/// Debian's gcc makes it, unless `flags` say otherwise).
fn gcc(src: &Path, name: &str, flags: &[&str]) -> PathBuf {
    let out = dir().join(name);
    let status = Command::new("mipsel-linux-gnu-gcc")
        .arg("-O2")
        .args(flags)
        .arg("-o")
        .arg(&out)
        .arg(src)
        .arg("-lm")
        .status()
        .expect("mipsel-linux-gnu-gcc runs (install gcc-mipsel-linux-gnu)");
    assert!(status.success(), "mipsel-linux-gnu-gcc {}", src.display());
    out
}

/// `guest/user/NAME.c`, compiled with `flags` into `NAME-SUFFIX`.
fn guest_program(name: &str, suffix: &str, flags: &[&str]) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("guest/user").join(format!("{name}.c"));
    gcc(&src, &format!("{name}-{suffix}"), flags)
}

/// The C program, compiled static once per test run.
fn c_program() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| compile("args", false))
}

#[test]
fn c_program_sees_argv_env_auxv_and_prints_doubles() {
    let out = same_as_qemu(&["never", "auto", "always"], c_program(), &["a", "b c", "-x"]);
    assert!(String::from_utf8_lossy(&out).contains("argv[2]=b c\n"));
}

/// `guest/user/signals.c`, compiled static once per test run.
fn signals_program() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| guest_program("signals", "static", &["-static"]))
}

#[test]
fn code_written_at_run_time_runs_after_an_icache_flush() {
    // Stores skip the search for translated code in user mode; synci,
    // cacheflush(2) and __builtin___clear_cache must drop stale code, also
    // once the JIT has compiled it.
    let prog = guest_program("smc", "static", &["-static", "-march=mips32r2"]);
    let out = same_as_qemu(&["never", "auto", "always"], &prog, &[]);
    assert!(String::from_utf8_lossy(&out).contains("version 6: sum 6298500\n"));
}

#[test]
fn ll_sc_partial_stores_and_rdhwr_inlined_in_user_mode_agree_with_qemu() {
    // The JIT lowers these inline in flat user memory only; the loops run
    // long enough for `auto` to compile them.
    let prog = guest_program("atomics", "static", &["-static", "-O2", "-march=mips32r2"]);
    let out = same_as_qemu(&["never", "auto", "always"], &prog, &[]);
    let want = "atomics: shared=199990000 sum=6bdd3fb0\npairs: first=20000 second=0 shared=200010000\n\
                partial stores: dd05074e\ntls: 8b9d1c17\n";
    assert_eq!(String::from_utf8_lossy(&out), want);
}

#[test]
fn threads_share_memory_block_and_take_turns_as_under_qemu() {
    // Mutex contention, atomics, condvars, TLS, a reader blocked on a pipe
    // another thread fills, semaphores, a spinning thread that needs its
    // turn to end, pthread_cancel, pthread_kill, fork from a thread, poll,
    // select, sigwait and sigsuspend in a thread, a write, writev, send and
    // sendfile of more than a pipe or socket holds while another thread
    // reads (and one a signal handler interrupts after part, which
    // returns the part's count), a send with MSG_DONTWAIT that must not
    // wait, flock waiting
    // for another thread's unlock, and the main
    // thread leaving first.
    let prog = guest_program("threads", "static", &["-static", "-O2", "-pthread"]);
    let out = same_as_qemu(&["never", "auto", "always"], &prog, &[]);
    let out = String::from_utf8_lossy(&out);
    assert!(out.starts_with("mutex: counter=400000 atomic=400000 results=4100 main tls=100 distinct tids=1"), "{out}");
    let end = "fork from a thread: child status 5\npoll in a thread: 1120, select timing out: 0\n\
               sigwait in a thread: 17, sigsuspend in a thread: 17\n\
               ppoll with a mask in a thread: 101, handler 17\n\
               big pipe write in a thread: wrote 1048576, read 1048576, all as written 1\n\
               big socket writev in a thread: wrote 1048576, read 1048576, all as written 1\n\
               big socket send in a thread: wrote 1048576, read 1048576, all as written 1\n\
               big sendfile in a thread: wrote 1048576, read 1048576, all as written 1\n\
               write interrupted after part: returned part, then the rest: 1048576, read 1048576\n\
               MSG_DONTWAIT in a thread: errno 11\n\
               flock in a thread: waited for the unlock 1\n\
               last thread: main has exited\n";
    assert!(out.ends_with(end), "{out}");
    let dynamic = guest_program("threads", "dynamic", &["-O2", "-pthread"]);
    same_as_qemu_in(Some(SYSROOT), &["auto"], &dynamic, &[]);
}

#[test]
fn signals_reach_guest_handlers_with_the_o32_frame() {
    // Faults with SA_SIGINFO and siglongjmp, raise, masks, sigpending, a
    // handler that edits uc_mcontext.pc, alarm, children killed by signals.
    let out = same_as_qemu(&["never", "auto", "always"], signals_program(), &[]);
    let out = String::from_utf8_lossy(&out);
    assert!(out.contains("skipped: v0=42\n") && out.contains("alarm: got=14\n"), "{out}");
    // A kernel-segment load in a compiled loop leaves the fast path for
    // the interpreter, which raises.
    assert!(out.contains("si_addr=0xc0001000\nkseg load hot: recovered"), "{out}");
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
    // A fault: mipsjit says so when it runs the program itself; in a guest's
    // child, as on Linux, only the parent learns it (CPython's
    // faulthandler tests expect a silent death).
    let got = mipsjit("auto", signals_program(), &["segv"]);
    assert_eq!(got.status.code(), Some(128 + 11), "{got:?}");
    assert!(String::from_utf8_lossy(&got.stderr).contains("guest killed by signal 11"), "{got:?}");
    let cmd = format!("{} segv; echo status $?", path_str(signals_program()));
    let got = mipsjit("auto", &busybox(), &["sh", "-c", &cmd]);
    assert_eq!(String::from_utf8_lossy(&got.stdout), "status 139\n", "{got:?}");
    assert!(!String::from_utf8_lossy(&got.stderr).contains("mipsjit:"), "{got:?}");
}

#[test]
fn misaligned_accesses_are_emulated_and_a_delay_slots_branch_followed() {
    // Linux emulates it and then follows the branch, evaluated before the
    // load wrote the register it tests; qemu-mipsel sends SIGBUS instead,
    // so the expected output is Linux's (see guest/user/signals.c).
    for jit in ["never", "auto", "always"] {
        let got = mipsjit(jit, signals_program(), &["emulated"]);
        let out = String::from_utf8_lossy(&got.stdout);
        // Then in loops hot enough to compile: 4999 passes add v and h;
        // the other sum is what the same C gives natively on x86.
        let hot = "delay slot hot: n=0 v=45444342 h=17732 sum=9d45f0aa\nmisaligned hot: 2aa3e638\n";
        assert_eq!(out, format!("delay slot: skipped=0 v=45444342 h=17732\n{hot}"), "--jit {jit}: {got:?}");
        assert_eq!(got.status.code(), Some(0), "--jit {jit}");
    }
}

#[test]
fn a_branch_with_its_delay_slot_on_the_next_page_is_compiled() {
    let prog = guest_program("pagecross", "static", &["-static"]);
    for jit in ["never", "auto", "always"] {
        let got = mipsjit(jit, &prog, &[]);
        assert_eq!(String::from_utf8_lossy(&got.stdout), "cross: 12507500\n", "--jit {jit}: {got:?}");
    }
    // Compiled, not left to the interpreter 5000 times.
    let got = limited(env!("CARGO_BIN_EXE_mipsjit"))
        .args(["user", "--jit", "always", "--stats"])
        .arg(&prog)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&got.stderr);
    assert!(err.contains("interp_blocks: 0,"), "{err}");
}

/// The `region_jumps` counter of a `--stats` line.
fn region_jumps(stats: &str) -> u64 {
    let n = stats.split("region_jumps: ").nth(1).and_then(|r| r.split(',').next());
    n.and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("no region_jumps in {stats}"))
}

#[test]
fn a_switch_dispatch_loop_follows_its_register_jump_inside_the_region() {
    // gcc compiles the switch to a jump table and one `jr`; `auto` mode
    // compiles the targets the interpreter saw into the loop's region and
    // tests for them before the jump cache. A target reached through the
    // wrong test would change the checksums; opcodes the profile did not
    // see still leave through the jump cache.
    let prog = guest_program("dispatch", "static", &["-static"]);
    let out = same_as_qemu(&["never", "auto", "always"], &prog, &[]);
    assert_eq!(String::from_utf8_lossy(&out), "hot: 774f4b45\nhot again: dbd312d3\nphases: d75b9458\n");
    let got = limited(env!("CARGO_BIN_EXE_mipsjit")).args(["user", "--stats"]).arg(&prog).output().unwrap();
    let err = String::from_utf8_lossy(&got.stderr);
    assert!(region_jumps(&err) >= 4, "{err}");
    // `always` compiles before anything ran: no profile, no such edges.
    let got = limited(env!("CARGO_BIN_EXE_mipsjit")).args(["user", "--stats", "--jit", "always"]).arg(&prog).output();
    let err = String::from_utf8_lossy(&got.unwrap().stderr).into_owned();
    assert_eq!(region_jumps(&err), 0, "{err}");
}

#[test]
fn a_fault_kills_the_guest_with_its_signal() {
    let got = mipsjit("auto", c_program(), &["segv"]);
    assert_eq!(got.status.code(), Some(128 + 11), "{got:?}");
    assert!(String::from_utf8_lossy(&got.stderr).contains("signal 11"));
}

fn protect_program() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| guest_program("protect", "static", &["-static"]))
}

#[test]
fn page_permissions_fault_where_the_guests_mappings_say() {
    // Null, read-only, PROT_NONE, unmapped and text pages (and a call
    // through a null pointer) fault with SEGV_MAPERR or SEGV_ACCERR at the
    // exact address, cold and in hot loops (with a SIGSEGV handler,
    // translated code checks each access); system calls get EFAULT, and a
    // read into a read-only buffer leaves the pipe's data for the next one.
    let out = same_as_qemu(&["never", "auto", "always"], protect_program(), &[]);
    assert_contains_all(
        &out,
        &[
            "null hot load:\n  caught 11 code 1 at base+32\n",
            "read-only hot store:\n  caught 11 code 2 at base+4\n",
            "none hot load:\n  caught 11 code 2 at base+8\n",
            "unmapped hot store:\n  caught 11 code 1 at base+12\n",
            "text store:\n  caught 11 code 2 at base+0\n",
            "call null:\n  caught 11 code 1 at base+0\n",
            "read into read-only: -1 errno 14\n",
            "read into rw: 4 a\n",
        ],
    );
}

#[test]
fn translated_code_faulting_on_protected_memory_kills_the_guest() {
    // Without a handler, translated code goes straight to memory and the
    // host's protection of it faults: the guest dies of SIGSEGV there, in
    // both tiers, without running on.
    for how in ["null", "hot-null", "hot-readonly", "hot-unmapped"] {
        for jit in ["never", "always"] {
            let got = limited(env!("CARGO_BIN_EXE_mipsjit"))
                .args(["user", "--stats", "--jit", jit])
                .arg(protect_program())
                .arg(how)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&got.stderr);
            assert_eq!(got.status.code(), Some(128 + 11), "{how} --jit {jit}: {err}");
            assert_eq!(String::from_utf8_lossy(&got.stdout), format!("dying of {how}\n"), "{how} --jit {jit}");
            assert!(err.contains("signal 11 (Segmentation fault)"), "{how} --jit {jit}: {err}");
            let caught_by_host = err.contains("in translated code") && err.contains("host_fault: 1,");
            assert_eq!(caught_by_host, jit == "always", "{how} --jit {jit}: {err}");
        }
    }
}

#[test]
fn sockets_over_unix_pairs_and_the_loopback_as_under_qemu() {
    // MIPS numbers SOL_SOCKET, its options and SOCK_STREAM/SOCK_DGRAM
    // differently, and lays msghdr and cmsghdr out in 32 bits: a
    // descriptor passed with SCM_RIGHTS, TCP between a process and its
    // child, UDP, timeouts and the errors must come out as under qemu; and
    // the network interfaces' ioctls, with o32's 32-byte struct ifreq.
    let prog = guest_program("net", "static", &["-static"]);
    let out = same_as_qemu(&["never", "always"], &prog, &[]);
    assert_contains_all(
        &out,
        &[
            "passed descriptor reads 7 through",
            "child exit 7\n",
            "recvfrom 8 datagram family 2",
            "errno 99\n",
            "names and indexes agree 1\n",
            "SIOCGIFCONF: 0, entries of 32 bytes, lo at 127.0.0.1\n",
            "SIOCGIFFLAGS lo: 0 loopback 1 up 1\n",
            "SIOCGIFMTU of none: -1 errno 19\n",
        ],
    );
    // A non-blocking connect's refusal through SO_ERROR is a MIPS errno
    // (qemu-mipsel 7.2 gives the host's 111).
    let got = mipsjit("auto", &prog, &["strict"]);
    assert_contains_all(&got.stdout, &["SO_ERROR 146 (ECONNREFUSED 146)\n"]);
}

#[test]
fn inotify_futex_wake_op_and_pi_futexes_as_under_qemu() {
    // MIPS numbers IN_NONBLOCK its own way; a directory's events and a
    // rename's cookies; every FUTEX_WAKE_OP operation and comparison, and
    // wakes of a waiting thread through either word; PTHREAD_PRIO_INHERIT
    // mutexes (FUTEX_LOCK_PI and friends) under contention, timing out,
    // and the raw calls' errors.
    let prog = guest_program("notify", "static", &["-static", "-pthread"]);
    let out = same_as_qemu(&["never", "auto", "always"], &prog, &[]);
    assert_contains_all(
        &out,
        &[
            "inotify_init1: ok, O_NONBLOCK 1, FD_CLOEXEC 1\n",
            "  event mask 0x80 name 'beta-longer-name' len>=name 1 cookie matches\n",
            "  event mask 0x8000 name '' len>=name 1\n",
            "blocking read: ok mask 0x100 name 'alpha'\n",
            "andn lt: 0 b=0x30\n",
            "or shift 5, negative operand: 0 b=0xffff0020\n",
            "unknown comparison: -1 errno 89 b=8\n",
            "woken through the second word: 1\n",
            "PI mutex: setprotocol 0 init 0\nPI mutex: counter 80000, trylock 0 then 16\n",
            "PI held elsewhere: timedlock 145, trylock 16, raw trylock -1/11, unlock -1/1\n",
            "PI own word: lock -1/45, unlock 0, word 0\nPI mutex after the holder: lock 0\n",
        ],
    );
    // Linux refuses flags it does not know (qemu-mipsel 7.2 drops them).
    let got = mipsjit("auto", &prog, &["strict"]);
    assert_contains_all(&got.stdout, &["inotify_init1(bad flags): -1 errno 22\n"]);
}

#[test]
fn system_v_semaphores_queues_and_shared_memory_as_under_qemu() {
    // o32 lays out the *id64_ds structures and a message's `long mtype` in
    // 32 bits; semop and msgrcv wait for another thread or a child;
    // shared memory is shared with a forked child and between two
    // attachments, at SHMLBA-aligned addresses.
    let prog = guest_program("sysv", "static", &["-static", "-pthread"]);
    let out = same_as_qemu(&["never", "auto", "always"], &prog, &[]);
    assert_contains_all(
        &out,
        &[
            "SETALL 0 GETALL 0: 7 8 0\n",
            "semtimedop timing out: -1 errno 11\n",
            "semop woken by a thread: 0, value 0\nsemop woken by a child: 0, child status 0\n",
            "IPC_STAT 0: nsems 3 mode 600 uid is mine 1 otime set 1\n",
            "IPC_STAT: qnum 4 cbytes 20 qbytes>0 1 lspid is me 1\n",
            "msgrcv not 3: 6 type 2 'minus'\n",
            "msgrcv woken by a thread: 14 type 9 'from a thread'\n",
            "child wrote: 'child, inherited', 'child, own attachment'\n",
            "IPC_STAT 0: segsz 10000 nattch 2 cpid is me 1 mode 600\n",
            "shmat SHM_RND: rounded down 1, sees 'parent'\n",
        ],
    );
}

#[test]
fn fcntl_locks_and_blocking_connects_in_threads_as_under_qemu() {
    // Record locks in both o32 layouts between a parent and its child,
    // F_SETLKW waiting for an unlock, open-file-description locks
    // contending between threads, SIGIO's owner and signal, pipe sizes;
    // a thread's blocking connect (a full Unix backlog, TCP, a refused
    // one) while main runs; dup2 onto a signalfd's number.
    let prog = guest_program("locks", "static", &["-static", "-pthread"]);
    let out = same_as_qemu(&["never", "auto", "always"], &prog, &[]);
    assert_contains_all(
        &out,
        &[
            "child F_GETLK: 0 type 1 whence 0 start 0 len 100 pid is parent 1\n",
            "child F_GETLK of a free range: 0 type 2 start 200 pid 99\n",
            "child F_SETLK on the parent's range: -1 busy 1\n",
            "child F_GETLK64 past 2 GiB: 0 type 1 start 90000000 len 16\n",
            "child F_SETLKW after the parent's unlock: 0 errno 0\n",
            "  sees its own lock: 0\n",
            "F_OFD_GETLK: 0 type 1 start 0 len 1 pid -1\n",
            "F_OFD_SETLKW in a thread: waited for the unlock 1\n",
            "F_GETOWN_EX: 0 type 1 is me 1\nF_SETSIG SIGUSR1: 0 errno 0\nF_GETSIG: 16 (SIGUSR1 16)\n",
            "F_GETPIPE_SZ: 131072\nfcntl 8: -1 errno 22\n",
            "read after dup2 onto a signalfd: 1 'x'\n",
            "blocking Unix connect in a thread: 11 (11: main ran meanwhile)\n",
            "TCP connect in a thread: 133000 (EISCONN 133)\n",
            "refused TCP connect in a thread: -146 (ECONNREFUSED 146)\n",
        ],
    );
    // A 32-bit struct flock cannot describe a lock past 2 GiB: Linux says
    // EOVERFLOW (qemu-mipsel 7.2 truncates the offset).
    let got = mipsjit("auto", &prog, &["strict"]);
    assert_contains_all(&got.stdout, &["child F_GETLK of a lock past 2 GiB: -1 errno 79\n"]);
}

#[test]
fn scheduling_limits_file_calls_and_sigqueue_as_under_qemu() {
    // Calls that said ENOSYS before: sched_*, getcpu, nice, set*id, rlimits
    // (MIPS numbers them its own way), capabilities, membarrier,
    // close_range; creat, utime, fallocate, fadvise64 (its advice on the
    // stack), sendfile, splice, tee, copy_file_range, preadv/pwritev(2),
    // memfd_create, xattrs; mlock, mincore; clock_getres; sigpending,
    // sigqueue's value to this process, a thread and a forked child (sent
    // at once: it must survive the child's reset of its signal state);
    // prctl, which answered 0 to everything; pidfd_send_signal; execveat;
    // a standard descriptor closed across execve; poll past 4096
    // descriptors; a shared file mapping's descriptor out of the guest's way.
    let prog = guest_program("syscalls3", "static", &["-static", "-pthread"]);
    let out = same_as_qemu(&["never", "auto", "always"], &prog, &[]);
    assert_contains_all(
        &out,
        &[
            "sched_get_priority_max FIFO: 99 errno 0\n",
            "sched_getscheduler: 3 errno 0\n",
            "nice(2): 2 errno 0\ngetpriority: 2 errno 0\n",
            "getrlimit NOFILE (32-bit): 0 errno 0\n  cur 100\n",
            "  cur 100 max is the old max 1\nsetrlimit cur > max: -1 errno 22\n",
            "  version written 0x20080522\n",
            "  mtime 2000 atime 1000\n",
            "utimensat_time64: 0 errno 0\n  mtime 2100000000.000000007 atime 2000000000.000000005\n",
            "  size 8192\n",
            "posix_fadvise bad advice: 22 errno 0\n",
            "  offset 12\n  read 'world'\n",
            "  teed 'hello,'\n  still in the first pipe 'hello,'\n",
            "  offsets 12 7\n",
            "  'ello' ', wor' position 10\npreadv at -1: -1 errno 22\n",
            "  second file '..world...ABCDE.....AB'\n",
            "  read back 'memfd!'\n",
            "  FD_CLOEXEC 1 1\nclose_range: 0 errno 0\n  F_GETFD after: -1 errno 9\n",
            "  first page resident 1\nmincore misaligned: -1 errno 22\nmincore unmapped: -1 errno 12\n",
            "clock_getres MONOTONIC: 0 errno 0\n  0.000000001\n",
            "  SIGUSR1 pending 1\n  handler: sig 16 code -1 value 42\nsigqueue signal 0: 0 errno 0\n",
            "rt_tgsigqueueinfo to a thread: value 77\n",
            "poll on the pidfd: 1 errno 0\n  child: value 9\n",
            "  name 'guest-name-that'\n",
            "  signal 17 (SIGUSR2 17)\n",
            "PR_SET_FP_MODE FR: 0 errno 0\nPR_GET_FP_MODE: 1 errno 0\nPR_SET_FP_MODE FRE: -1 errno 122\n",
            "prctl 9999: -1 errno 22\n",
            "pidfd_send_signal to myself: 0 errno 0\n  handler: sig 17 code 0\n",
            "open after a shared mapping's close: same number 1\n",
            "writable shared mapping of a read-only file: failed errno 13\n",
            "poll 5000 descriptors: 0 errno 0\npoll past the limit: -1 errno 22\n",
        ],
    );
    // Linux 6.1 starts an FPXX program with FR=0 (qemu-mipsel 7.2: FR=1);
    // execve of a MIPS program runs it (qemu-mipsel needs binfmt_misc).
    let got = mipsjit("auto", &prog, &["strict"]);
    assert_contains_all(
        &got.stdout,
        &[
            "PR_GET_FP_MODE at start: 0 errno 0\n",
            "fexecve: child status 7\nexecveat of a memfd: child status 9\nexecve with fd 0 closed: child status 8\n",
        ],
    );
}

#[test]
fn file_memory_io_priority_and_clock_calls_that_said_enosys_as_under_qemu() {
    // futimesat, syncfs, sync_file_range (its flags from the stack, the
    // seventh o32 argument), mlock2, getdents (each host record converted
    // to o32's struct linux_dirent, over calls of 512 and 64 bytes),
    // ioprio_get/set, setfsuid/setfsgid, and adjtimex's three calls (the
    // 64-bit struct timex and o32's 32-bit one).
    let prog = guest_program("syscalls5", "static", &["-static"]);
    let out = same_as_qemu(&["never", "always"], &prog, &[]);
    assert_contains_all(
        &out,
        &[
            "futimesat: 0 errno 0\n  mtime 2000.000007000 atime 1000.000005000\n",
            "futimesat bad microseconds: -1 errno 22\n",
            "syncfs: 0 errno 0\n",
            "sync_file_range: 0 errno 0\nsync_file_range bad flags: -1 errno 22\n",
            "sync_file_range negative offset: -1 errno 22\nsync_file_range negative length: -1 errno 22\n",
            "mlock2: 0 errno 0\n",
            "mlock2 bad flags: -1 errno 22\n",
            "getdents by 512: end 0, 40 files sum 780, types right 1, several calls 1\n",
            "getdents by 64: end 0, 40 files sum 780, types right 1, several calls 1\n",
            "getdents buffer too small: -1 errno 22\n",
            "ioprio_get again: 16388 errno 0\nioprio_get bad which: -1 errno 22\n",
            "setfsuid(-1) is the effective uid 1\nsetfsgid(-1) is the effective gid 1\n",
            "adjtimex: a state 1, a tick 1\n",
            "clock_adjtime, 32-bit: a state 1, the same tick 1\nadjtimex, 32-bit: a state 1, the same tick 1\n",
            "clock_adjtime bad clock: -1 errno 22\n",
        ],
    );
    // MLOCK_ONFAULT, which qemu-mipsel 7.2 refuses, as Linux takes it.
    let got = mipsjit("always", &prog, &["linux"]);
    assert_eq!(
        String::from_utf8_lossy(&got.stdout),
        "mlock2 onfault: 0 errno 0\n  untouched pages resident 0 0\nmunlock: 0 errno 0\n",
        "{got:?}"
    );
}

#[test]
fn mmsg_posix_timers_and_message_queues_as_under_qemu() {
    // Calls that said ENOSYS before: sendmmsg and recvmmsg (glibc's DNS
    // resolver needs sendmmsg), POSIX timers (a signal with its value, a
    // periodic timer's overrun, SIGEV_NONE, absolute times, errors),
    // message queues (o32's struct mq_attr, priorities, timeouts, a thread
    // waiting in mq_receive while another sends), mlockall; real-time
    // signals queue; vmsplice; syslog (klogctl).
    let prog = guest_program("syscalls4", "static", &["-static", "-pthread"]);
    let out = same_as_qemu(&["never", "auto", "always"], &prog, &[]);
    assert_contains_all(
        &out,
        &[
            "sendmmsg 3: 3 errno 0\n  msg_len 5 7 1\n",
            "recvmmsg WAITFORONE: 3 errno 0\n  'first' 5 'seco' 4 truncated 1 '3' 1\n",
            "recvmmsg with a timeout: 2 errno 0\n  time left below 5 s 1\n",
            "recvmmsg UDP: 2 errno 0\n  'first' 'second!' from family 2 2 namelen 16\n",
            "  armed 1, at most 20 ms left 1\n  signal 16 value 1234\n",
            "  delivered 1, overrun counted 1\n",
            "  old interval 0.002000000\ntimer_delete: 0 errno 0\ntimer_delete again: -1 errno 22\n",
            "  about 100 s left 1\n",
            "  maxmsg 4 msgsize 32 curmsgs 0\n",
            "mq_send too long: -1 errno 97\nmq_receive: 4 errno 0\n  'high' priority 7\n",
            "mq_timedreceive empty: -1 errno 145\n",
            "mq_unlink bad name: -1 errno 14\n",
            "  thread received 7 'across' priority 5\n  thread timed receive -1 errno 145\n",
            "mlockall bad flags: -1 errno 22\n",
            "klogctl bad type: -1 errno 22\n",
            // Real-time signals queue, each with its value (mipsjit kept one).
            "rt queue: sigtimedwait SIGUSR1 value 1, then 3 handled: 10 20 30; SIGUSR1 0 more\n",
            "vmsplice out of the pipe: 13 errno 0\n  'splic' 'ed bytes'\nvmsplice empty, nonblocking: -1 errno 11\n",
            "vmsplice to a file: -1 errno 9\n",
            // Ignoring a signal drops it where pending, another thread too.
            "pending for a thread, then ignored: handled 0 times\n",
        ],
    );
    // What qemu-mipsel 7.2 gets wrong: MIPS's SI_TIMER and SI_MESGQ, the
    // guest's O_NONBLOCK in mq_flags, glibc's SIGEV_THREAD timers (signal
    // 32 to one thread), mq_notify (a signal, and glibc's SIGEV_THREAD
    // through a netlink socket).
    let got = mipsjit("auto", &prog, &["strict"]);
    assert_contains_all(
        &got.stdout,
        &[
            "  signal 16 value 1234\n  code -3 (SI_TIMER -3)\n",
            "  thread function ran with 99\n",
            "  flags nonblock 1\n",
            "  old flags nonblock 1\n",
            "mq_notify: 0 errno 0, again -1 errno 16\n",
            "  signal 17 code -4 (SI_MESGQ -4) value 4321\n",
            "mq_notify SIGEV_THREAD: 0 errno 0, function ran with 55\n",
            "two SIGEV_THREAD timers at once: 1 2\n",
        ],
    );
}

#[test]
fn signalfd_reads_the_guests_own_pending_signals_as_under_qemu() {
    // Guest signals are emulated, so a signalfd is an eventfd kept
    // readable while one of its signals is pending: reads, EAGAIN, a
    // blocking read a child's kill ends, poll and epoll, a child's exit
    // status, a changed mask; copies of it (dup, dup2, F_DUPFD_CLOEXEC)
    // that share its mask.
    let prog = guest_program("signalfd", "static", &["-static"]);
    let out = same_as_qemu(&["never", "auto", "always"], &prog, &[]);
    assert_contains_all(
        &out,
        &[
            "nothing pending: errno 11\npoll before: 0\npoll after: 1\ntwo pending: 256 bytes\n",
            "  signo 16 code -6 from me 1 uid is mine 1 status 0\n  signo 17 code 0 from me 1",
            "poll once read: 0\nread into 16 bytes: -1 errno 22\nstill pending: 1\n",
            "blocking read: 128 bytes\n  signo 17 code 0 from me 0",
            "epoll_wait: 1 data 77\nchild exit: 128 signo 18 code 1 pid is the child 1 status 3\n",
            "read through dup: 128 signo 16\n",
            "read through dup2 after a new mask through F_DUPFD_CLOEXEC: 128 signo 17\n",
            "SIGUSR1 is not its signal now: poll 0\n",
        ],
    );
}

#[test]
fn eventfd_timerfd_and_epoll_as_under_qemu() {
    // o32 pads struct epoll_event to 16 bytes and numbers EFD_NONBLOCK
    // its own way; waits end on a forked child's write, another green
    // thread's, a timer, and a signal (unless epoll_pwait's mask holds it).
    let prog = guest_program("events", "static", &["-static", "-pthread"]);
    let out = same_as_qemu(&["never", "always"], &prog, &[]);
    assert_contains_all(
        &out,
        &[
            "  events 1 data a5a5a5a5deadbeef\n",
            "woken by thread: 1 data 9\n",
            "interrupted: -1 errno 4\n",
            "timer ready: 1 data 11\n",
        ],
    );
    // epoll_pwait2, which qemu-mipsel 7.2 answers ENOSYS, as Linux does it
    // (its number once reached utimensat instead: EFAULT).
    for jit in ["never", "always"] {
        let got = mipsjit(jit, &prog, &["linux"]);
        assert_eq!(
            String::from_utf8_lossy(&got.stdout),
            "pwait2 timeout: 0 errno 0 waited 1\npwait2 ready: 1 events 1 data 1122334455667788\n\
             pwait2 no timeout: 1\npwait2 masked: 0 errno 0\npwait2 bad timeout: -1 errno 22\n",
            "--jit {jit}: {got:?}"
        );
    }
}

#[test]
fn dynamic_c_program_sees_argv_env_auxv() {
    let prog = compile("args-dynamic", true);
    let out = same_as_qemu_in(Some(SYSROOT), &["never", "always"], &prog, &["a", "b c"]);
    assert!(String::from_utf8_lossy(&out).contains("entry=1\n"));
}

#[test]
fn dynamic_libm_functions() {
    let prog = guest_program("libm", "dynamic", &[]);
    let out = same_as_qemu_in(Some(SYSROOT), &["never", "always"], &prog, &[]);
    assert!(String::from_utf8_lossy(&out).contains("sin(0.5) = 0.47942553860420301 0x1.eaee8744b05fp-2\n"));
}

#[test]
fn dynamic_fpu_rounding_nan_and_conversions() {
    let prog = guest_program("fpconv", "dynamic", &[]);
    let out = same_as_qemu_in(Some(SYSROOT), &["never", "auto", "always"], &prog, &[]);
    assert!(String::from_utf8_lossy(&out).contains("== towardzero (fegetround ok: 1)\n"));
}

#[test]
fn static_and_fixed_address_builds_of_the_fpu_program() {
    // The dynamic build above is PIE (Debian's default); here the other two.
    let stat = guest_program("fpconv", "static", &["-static"]);
    let want = same_as_qemu(&["always"], &stat, &[]);
    let fixed = guest_program("fpconv", "no-pie", &["-no-pie"]);
    assert_eq!(same_as_qemu_in(Some(SYSROOT), &["auto"], &fixed, &[]), want);
}

#[test]
fn dynamic_mmap_munmap_mremap_mprotect() {
    let prog = guest_program("mmap", "dynamic", &[]);
    let file = dir().join("mmap.dat");
    let out = same_as_qemu_in(Some(SYSROOT), &["never", "always"], &prog, &[path_str(&file)]);
    assert!(String::from_utf8_lossy(&out).contains("remapped zero: 1 0\n"));
}

#[test]
fn shared_mappings_reach_forked_children_and_files() {
    // Anonymous MAP_SHARED memory a child writes; file mappings written
    // back at msync, munmap and exit, without undoing a pwrite; both moved
    // and grown by mremap.
    let prog = guest_program("shared", "dynamic", &[]);
    let file = dir().join("shared.dat");
    let out = same_as_qemu_in(Some(SYSROOT), &["never", "auto"], &prog, &[path_str(&file)]);
    let out = String::from_utf8_lossy(&out);
    assert!(out.starts_with("anonymous: shared 42 7, private 1\nremapped private: 0 0\n"), "{out}");
    assert!(out.contains("after munmap: Z W a size 8292\nchild's mapping at exit: Q\n"), "{out}");
    // mremap moves shared memory as the host's mapping: still shared (it
    // made a private copy before), a grown file mapping the file's bytes.
    assert!(
        out.contains(
            "mremap shared anonymous: moved 1, kept 3, child wrote 5 6\nmremap shared file: X Q\n  \
             written through the grown part: R\n"
        ),
        "{out}"
    );
    // Grown in place, as Linux does (qemu-mipsel 7.2 says ENOMEM).
    let got = mipsjit_in(Some(SYSROOT), "auto", &prog, &[path_str(&file), "in-place"]);
    assert_eq!(
        String::from_utf8_lossy(&got.stdout),
        "mremap shared file in place: 1 X Q\n  written through the grown part: S\n",
        "{got:?}"
    );
    // The file as mipsjit left it (it ran last) is as qemu-mipsel left it,
    // but for the 'S' written in place.
    let mut want = vec![b'a'; 2 * 4096 + 100];
    (want[0], want[10], want[20], want[5000], want[4096 + 100]) = (b'X', b'Z', b'W', b'Y', b'Q');
    (want[4096 + 1], want[4096 + 2]) = (b'R', b'S');
    assert_eq!(std::fs::read(&file).unwrap(), want);
}

#[test]
fn shared_file_mappings_semaphores_and_locks_between_processes() {
    // A MAP_SHARED file mapping is the file itself: a child's write is
    // seen by its parent at once; a named POSIX semaphore (sem_open) and a
    // process-shared mutex in shm_open memory work across fork (its ll/sc
    // is a compare-and-swap, and its futex waits reach other processes);
    // a page past the file's end raises SIGBUS.
    let prog = guest_program("shmfile", "static", &["-static", "-pthread"]);
    let file = dir().join("shmfile.dat");
    let out = same_as_qemu(&["never", "auto", "always"], &prog, &[path_str(&file)]);
    assert_contains_all(
        &out,
        &[
            "parent sees the child's write: mapping c, read c\nchild saw the parent's bytes: 1\n",
            "sem_open across fork: 0 0, value 0\n",
            "shm_open counter of three children: 6000\n",
            "touching a page past the end: signal 10\n",
        ],
    );
}

#[test]
fn ld_so_as_the_program_maps_the_program_itself() {
    // ld.so is an ET_DYN without an interpreter; it loads `args-dynamic`
    // with mmap, MAP_FIXED segments and all.
    let prog = compile("args-ldso", true);
    let ld_so = Path::new(SYSROOT).join("lib/ld.so.1");
    let lib = format!("{SYSROOT}/lib");
    same_as_qemu_in(Some(SYSROOT), &["auto"], &ld_so, &["--library-path", &lib, path_str(&prog), "x"]);
}

/// The one line mipsjit prints when a program cannot start: status 2.
fn assert_refused(got: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&got.stderr);
    assert_eq!(got.status.code(), Some(2), "{got:?}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(needle) && !err.contains("panic"), "{err}");
}

#[test]
fn truncated_elf_is_refused() {
    let whole = std::fs::read(compile("args-truncated", true)).unwrap();
    for len in [40, 60, 200, 2000] {
        let cut = dir().join(format!("truncated-{len}"));
        std::fs::write(&cut, &whole[..len]).unwrap();
        assert_refused(&mipsjit_in(Some(SYSROOT), "auto", &cut, &[]), "malformed ELF");
    }
}

#[test]
fn missing_interpreter_is_refused() {
    let src = dir().join("args-badinterp.c");
    std::fs::write(&src, C_PROGRAM).unwrap();
    let prog = gcc(&src, "args-badinterp", &["-Wl,--dynamic-linker=/nonexistent/ld.so.1"]);
    assert_refused(&mipsjit_in(Some(SYSROOT), "auto", &prog, &[]), "program interpreter /nonexistent/ld.so.1");
}

/// A directory tree for `find`, made once.
fn tree() -> &'static Path {
    static T: OnceLock<PathBuf> = OnceLock::new();
    T.get_or_init(|| {
        let t = dir().join("tree");
        let _ = std::fs::remove_dir_all(&t);
        for d in ["a/b/c", "a/d", "e"] {
            std::fs::create_dir_all(t.join(d)).unwrap();
        }
        for (f, len) in [("a/one.txt", 10), ("a/b/two.txt", 3000), ("a/b/c/three.c", 1), ("e/four.txt", 0)] {
            std::fs::write(t.join(f), "x".repeat(len)).unwrap();
        }
        t
    })
}

#[test]
fn busybox_awk_sed_find() {
    let f = path_str(input());
    let bb = busybox();
    // (This busybox's awk has no libm: no sin or log.)
    let awk = "{ n++; s += $1; if ($1 > m) m = $1; w[length($4)]++ } END { printf \"%d %d %d %.6f %.3e %d %s\\n\", \
               n, s, m, s / n, s * 1.5e-7, int(s / 7), substr($0, 3, 5); for (k = 0; k <= 21; k += 3) print k, w[k] }";
    assert!(same_as_qemu(&["never", "auto"], &bb, &["awk", awk, f]).starts_with(b"3000 "));
    same_as_qemu(&["auto"], &bb, &["awk", "-F", " ", "$4 ~ /xyzxyz/ { print NR, toupper($2), length($4) }", f]);
    same_as_qemu(&["never", "auto"], &bb, &["sed", "-e", "s/line/LINE/; /xyz$/d; 5~7s/[0-9]\\+/<&>/g", f]);
    same_as_qemu(&["auto"], &bb, &["sed", "-n", "100,120p; $=", f]);
    let t = path_str(tree());
    same_as_qemu(&["never", "auto"], &bb, &["find", t]);
    same_as_qemu(&["auto"], &bb, &["find", t, "-name", "*.txt", "-type", "f"]);
    same_as_qemu(&["auto"], &bb, &["find", t, "-type", "d", "-o", "-size", "+1k"]);
    same_as_qemu(&["auto"], &bb, &["find", t, "-empty"]);
}

#[test]
fn qemu_ld_prefix_picks_the_sysroot_when_there_is_no_dash_l() {
    let prog = compile("args-prefix", true);
    let empty = dir().join("empty-sysroot");
    std::fs::create_dir_all(&empty).unwrap();
    let run = |prefix: &Path| {
        Command::new(env!("CARGO_BIN_EXE_mipsjit"))
            .args(["user", "--jit", "never"])
            .arg(&prog)
            .env("QEMU_LD_PREFIX", prefix)
            .output()
            .unwrap()
    };
    // This host has no /lib/ld.so.1 of its own, so an empty prefix fails.
    assert_refused(&run(&empty), "program interpreter /lib/ld.so.1");
    let got = run(Path::new(SYSROOT));
    assert_eq!(got.status.code(), Some(3), "{got:?}");
    assert!(String::from_utf8_lossy(&got.stdout).starts_with("argc=1\n"));
}

#[test]
fn terminal_ioctls_through_a_pseudo_terminal() {
    // termios both ways (MIPS has its own c_lflag bits and c_cc order),
    // raw mode, window size, FIONREAD, flushes, isatty on a pipe, and a
    // child taking the pty as its controlling terminal.
    let prog = guest_program("tty", "static", &["-static"]);
    let out = same_as_qemu(&["never", "auto"], &prog, &[]);
    let out = String::from_utf8_lossy(&out);
    assert!(out.contains("isatty(master)=1 isatty(slave)=1\n"), "{out}");
    assert!(out.contains("TIOCGWINSZ=0 33 101 5 6\n") && out.contains("child exit=5 signal=0\n"), "{out}");
}

#[test]
fn dynamic_waits_timeouts_and_accounting_calls() {
    // rt_sigtimedwait, waitid, ppoll, pselect6, select, times, getrusage,
    // clock_settime (never with a time the host would take: a child that
    // gave up root asks), and uc_stack restored by rt_sigreturn; each also
    // through its other (32- or 64-bit time) system call.
    let prog = guest_program("syscalls2", "dynamic", &[]);
    let out = same_as_qemu_in(Some(SYSROOT), &["never", "auto"], &prog, &[]);
    let out = String::from_utf8_lossy(&out);
    for line in [
        "sigtimedwait timeout: -1 EAGAIN\n",
        "sigtimedwait pending: 16 si_signo=16 si_code=0 from me=1\n",
        "sigtimedwait timer: 14 si_signo=14 si_code=128\n",
        "waitid killed: 0 ok si_signo=18 si_code=2 si_status=16 si_pid ok=1\n",
        "ppoll sigmask: -1 EINTR handled=16 still blocked=1\n",
        "select ready: 3 r=1,1 w=1\n",
        "getrusage size: 0 untouched after 72=1\n",
        "altstack: on alt=1 flags inside=1 EPERM inside=1 after: sp=alt2 size=16384 flags=0\n",
    ] {
        assert!(out.contains(line), "no {line:?} in {out}");
    }
    // Where qemu-mipsel 7.2 differs from Linux (it leaves waitid's infop
    // alone when WNOHANG finds no child, passes no rusage to the host,
    // refuses select's microseconds past a second, and SS_AUTODISARM),
    // mipsjit does as Linux.
    let got = mipsjit_in(Some(SYSROOT), "auto", &prog, &["linux"]);
    let linux = String::from_utf8_lossy(&got.stdout);
    assert_eq!(got.status.code(), Some(0), "{got:?}");
    for line in [
        "waitid nohang: 0 ok si_signo=0 si_code=0 si_status=0 si_pid ok=1\n",
        "waitid rusage: 0 maxrss>0=1\n",
        "_newselect carry: 1 ok isset=1\n",
        // Disarmed while the handler runs on it (SS_DISABLE, size 0), back after.
        "autodisarm: 0 on alt=1 inside flags=0x2 size=0 after flags=0x80000000 size=16384\n",
    ] {
        assert!(linux.contains(line), "no {line:?} in {linux}");
    }
}

/// Runs busybox `args` under mipsjit in `mine` and under qemu-mipsel in
/// `theirs` (twin directories): the same stdout and status, and no
/// "unsupported syscall" warning. Returns the stdout.
fn same_in_twin_dirs(mine: &Path, theirs: &Path, args: &[&str]) -> String {
    let want = Command::new("qemu-mipsel").arg(busybox()).args(args).current_dir(theirs).output().unwrap();
    let got = Command::new(env!("CARGO_BIN_EXE_mipsjit"))
        .args(["user", "--jit", "auto"])
        .arg(busybox())
        .args(args)
        .current_dir(mine)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&got.stderr);
    assert!(!err.contains("unsupported syscall"), "{args:?}: {err}");
    assert_eq!(String::from_utf8_lossy(&got.stdout), String::from_utf8_lossy(&want.stdout), "{args:?}: {err}");
    assert_eq!(got.status.code(), want.status.code(), "exit status of {args:?}: {err}");
    String::from_utf8_lossy(&got.stdout).into_owned()
}

#[test]
fn busybox_file_applets_change_files_as_under_qemu() {
    // Links, modes, times, sizes, fifos, tar and cp -a (which set owners
    // and times), statfs, poll, sched_getaffinity: each step runs in two
    // twin directories, one under mipsjit and one under qemu-mipsel.
    let twins = ["mine", "theirs"].map(|n| {
        let d = dir().join("twins").join(n);
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("d/e")).unwrap();
        std::fs::write(d.join("d/f"), "hello\n").unwrap();
        std::fs::write(d.join("d/e/g"), "world\n").unwrap();
        // One time for both twins: `cp -a`, `tar` and `stat` carry these
        // times, and creation moments may fall either side of a second.
        let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
        for p in ["d/f", "d/e/g", "d/e", "d"] {
            std::fs::File::open(d.join(p)).and_then(|f| f.set_modified(when)).unwrap();
        }
        d
    });
    let steps: &[&[&str]] = &[
        &["cp", "-a", "d", "d2"],
        &["ln", "-s", "d2/f", "sl"],
        &["ln", "d2/f", "hl"],
        &["touch", "-d", "2020-01-02 03:04:05", "d2/f"],
        &["chmod", "640", "d2/f"],
        &["mkfifo", "ff"],
        &["truncate", "-s", "12345", "big"],
        &["tar", "cf", "t.tar", "d2"],
        &["mkdir", "x"],
        &["tar", "xf", "t.tar", "-C", "x"],
        &["mv", "big", "big2"],
        &["readlink", "sl"],
        &["stat", "-c", "%n %s %a %F %h %Y", "d2/f", "hl", "x/d2/f", "x/d2/e/g"],
        // Made just now, in each twin's own second: no modification times.
        &["stat", "-c", "%n %s %a %F %h", "sl", "ff", "big2"],
        &["find", ".", "-name", "[a-z]*"],
        &["du", "-s", "x"],
        &["sha1sum", "t.tar"],
        &["nproc"],
        &["stat", "-f", "-c", "%T %s %b %c", "."],
        &["sh", "-c", "read v < d2/e/g; echo got $v"],
        &["sync"],
    ];
    for args in steps {
        same_in_twin_dirs(&twins[0], &twins[1], args);
    }
    let out = mipsjit("auto", &busybox(), &["readlink", "-f", path_str(&twins[0].join("sl"))]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{}\n", path_str(&twins[0].join("d2/f"))));
    same_in_twin_dirs(&twins[0], &twins[1], &["rm", "-r", "x", "d2", "hl", "ff"]);
    assert_eq!(same_in_twin_dirs(&twins[0], &twins[1], &["ls", "-a"]), ".\n..\nbig2\nd\nsl\nt.tar\n");
}

#[test]
fn stats_report_the_instruction_count_and_counters() {
    let got = Command::new(env!("CARGO_BIN_EXE_mipsjit"))
        .args(["user", "--stats", "--jit", "always"])
        .arg(busybox())
        .arg("true")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&got.stderr);
    assert_eq!(got.status.code(), Some(0), "{err}");
    let count: u64 = err
        .split("mipsjit: ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no instruction count in {err:?}"));
    assert!(count > 1000, "{err}");
    assert!(err.contains("blocks_compiled: ") && !err.contains("blocks_compiled: 0,"), "{err}");
}
