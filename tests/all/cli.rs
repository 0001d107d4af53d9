//! The `mipsjit` command line on bad input: every bad file or option gets a
//! short readable error and a non-zero exit, never a panic.
//!
//! The guest images are built here by hand (no cross compiler needed).

use std::path::PathBuf;
use std::process::{Command, Output};

// ---- A minimal ELF32 MIPS executable, byte by byte ----

const PT_LOAD: u32 = 1;
const PT_NOTE: u32 = 4;
const EHDR: usize = 52;
const PHDR: usize = 32;

/// Where the test programs are linked (kseg0, 1 MiB into RAM).
const BASE: u32 = 0x8010_0000;

/// One program header and the words its file data holds.
struct Seg {
    p_type: u32,
    vaddr: u32,
    words: Vec<u32>,
    /// Extra zero-filled bytes after the file data.
    bss: u32,
}

struct ElfSpec {
    big_endian: bool,
    class: u8,
    e_type: u16,
    machine: u16,
    entry: u32,
    segs: Vec<Seg>,
}

impl ElfSpec {
    /// An executable with one PT_LOAD of `words` at [`BASE`], entered at its start.
    fn exec(words: &[u32]) -> Self {
        let seg = Seg { p_type: PT_LOAD, vaddr: BASE, words: words.to_vec(), bss: 0 };
        ElfSpec { big_endian: false, class: 1, e_type: 2, machine: 8, entry: BASE, segs: vec![seg] }
    }

    /// Header, then the program headers, then each segment's data in turn.
    fn bytes(&self) -> Vec<u8> {
        let mut b = Vec::new();
        let be = self.big_endian;
        let h = |b: &mut Vec<u8>, v: u16| b.extend(if be { v.to_be_bytes() } else { v.to_le_bytes() });
        let w = |b: &mut Vec<u8>, v: u32| b.extend(if be { v.to_be_bytes() } else { v.to_le_bytes() });
        b.extend(b"\x7fELF");
        b.extend([self.class, if be { 2 } else { 1 }, 1]);
        b.resize(16, 0);
        h(&mut b, self.e_type);
        h(&mut b, self.machine);
        w(&mut b, 1); // e_version
        w(&mut b, self.entry);
        w(&mut b, EHDR as u32); // e_phoff
        w(&mut b, 0); // e_shoff
        w(&mut b, 0); // e_flags
        for v in [EHDR, PHDR, self.segs.len(), 40, 0, 0] {
            h(&mut b, v as u16); // e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx
        }
        let mut offset = (EHDR + PHDR * self.segs.len()) as u32;
        for s in &self.segs {
            let filesz = 4 * s.words.len() as u32;
            for v in [s.p_type, offset, s.vaddr, s.vaddr & 0x1fff_ffff, filesz, filesz + s.bss, 7, 4] {
                w(&mut b, v);
            }
            offset += filesz;
        }
        for s in &self.segs {
            s.words.iter().for_each(|&v| w(&mut b, v));
        }
        b
    }
}

/// `lui t0,0xbf00; ori t0,t0,0x500; li t1,0x42; sw t1,0(t0)`: writes 0x42 to
/// the Malta SOFTRES register (reset, exit 0); then `b .; nop` in case.
const RESET: [u32; 6] = [0x3c08_bf00, 0x3508_0500, 0x2409_0042, 0xad09_0000, 0x1000_ffff, 0];
/// `b .; nop`: runs forever.
const SPIN: [u32; 2] = [0x1000_ffff, 0];
/// `nop; sdbbp`.
const SDBBP: [u32; 2] = [0, 0x7000_003f];

// ---- Running the binary ----

/// A fresh directory for one test's files, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> Self {
        let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{}-{test}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }

    /// Writes `bytes` as `name` in the directory; returns its path.
    fn file(&self, name: &str, bytes: &[u8]) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_str().unwrap().to_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn mipsjit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mipsjit"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_no_panic(out: &Output) {
    let err = stderr(out);
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "panic:\n{err}");
}

/// Our own error: `code`, and one line of stderr holding every one of `needles`.
fn assert_error(out: &Output, code: i32, needles: &[&str]) {
    assert_no_panic(out);
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert!(err.ends_with('\n') && err.lines().count() == 1, "not one line:\n{err}");
    assert!(err.starts_with("mipsjit: "), "{err}");
    for n in needles {
        assert!(err.contains(n), "{err:?} lacks {n:?}");
    }
}

/// A bad file: one line naming the file and saying what is wrong.
fn assert_bad_file(test: &str, bytes: &[u8], why: &str) {
    let dir = TempDir::new(test);
    let path = dir.file(&format!("{test}.elf"), bytes);
    assert_error(&mipsjit(&["run", &path]), 2, &[&path, why]);
}

/// Clap's usage errors: exit 2, a message, no panic.
fn assert_usage_error(args: &[&str], needle: &str) {
    let out = mipsjit(args);
    assert_no_panic(&out);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(err.contains(needle), "{err:?} lacks {needle:?}");
}

// ---- Good images ----

#[test]
fn valid_little_endian_runs() {
    let dir = TempDir::new("valid_le");
    let path = dir.file("ok.elf", &ElfSpec::exec(&RESET).bytes());
    for jit in ["never", "always", "auto"] {
        let out = mipsjit(&["run", "--jit", jit, "--memory", "16", &path]);
        assert_no_panic(&out);
        assert_eq!(out.status.code(), Some(0), "--jit {jit}: {}", stderr(&out));
        assert_eq!(stderr(&out), "");
    }
}

#[test]
fn valid_big_endian_runs() {
    let elf = ElfSpec { big_endian: true, ..ElfSpec::exec(&RESET) };
    let dir = TempDir::new("valid_be");
    let path = dir.file("ok.elf", &elf.bytes());
    let out = mipsjit(&["run", &path]);
    assert_no_panic(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn instruction_limit() {
    let dir = TempDir::new("limit");
    let path = dir.file("spin.elf", &ElfSpec::exec(&SPIN).bytes());
    assert_error(&mipsjit(&["run", "--max-insns", "1000", &path]), 3, &["instruction limit"]);
}

/// Points EBase at physical memory that does not exist and jumps there:
/// every fetch faults, including the fetch of the exception vector. The
/// guest loops forever (as on hardware and QEMU), but the limit still ends
/// the run.
const UNFETCHABLE_VECTOR: [u32; 5] = [
    0x3c08_9000, // lui   t0, 0x9000       (physical 0x10000000: beyond 16 MiB of RAM)
    0x4088_7801, // mtc0  t0, EBase
    0x4080_6000, // mtc0  zero, Status     (BEV=0: vectors at EBase)
    0x0100_0008, // jr    t0
    0x0000_0000, //  nop
];

#[test]
fn instruction_limit_ends_a_guest_whose_vectors_cannot_be_fetched() {
    let dir = TempDir::new("unfetchable");
    let path = dir.file("fault_loop.elf", &ElfSpec::exec(&UNFETCHABLE_VECTOR).bytes());
    for jit in ["never", "always"] {
        let out = mipsjit(&["run", "--memory", "16", "--jit", jit, "--max-insns", "1000", &path]);
        assert_error(&out, 3, &["instruction limit"]);
    }
}

#[test]
fn sdbbp_is_reported() {
    let dir = TempDir::new("sdbbp");
    let path = dir.file("sdbbp.elf", &ElfSpec::exec(&SDBBP).bytes());
    assert_error(&mipsjit(&["run", &path]), 1, &["sdbbp", "0x80100004"]);
}

// ---- Files that are not ELF images ----

#[test]
fn missing_file() {
    let dir = TempDir::new("missing");
    let path = dir.0.join("no-such-file.elf");
    let path = path.to_str().unwrap();
    assert_error(&mipsjit(&["run", path]), 2, &[path, "No such file"]);
}

#[test]
fn directory_instead_of_file() {
    let dir = TempDir::new("directory");
    let path = dir.0.to_str().unwrap();
    assert_error(&mipsjit(&["run", path]), 2, &[path]);
}

#[test]
fn text_file() {
    assert_bad_file("text", b"#!/bin/sh\necho hello\n", "not an ELF file");
}

#[test]
fn empty_file() {
    assert_bad_file("empty", b"", "not an ELF file");
}

#[test]
fn just_the_magic() {
    assert_bad_file("magic", b"\x7fELF", "ends inside the ELF header");
}

// ---- Damaged or unsuitable ELF images ----

#[test]
fn truncated_in_program_headers() {
    let bytes = ElfSpec::exec(&RESET).bytes();
    assert_bad_file("trunc_ph", &bytes[..EHDR + PHDR / 2], "program headers run past the end of the file");
}

#[test]
fn truncated_in_header() {
    let bytes = ElfSpec::exec(&RESET).bytes();
    assert_bad_file("trunc_eh", &bytes[..30], "ends inside the ELF header");
}

#[test]
fn truncated_in_segment_data() {
    let bytes = ElfSpec::exec(&RESET).bytes();
    assert_bad_file("trunc_data", &bytes[..bytes.len() - 6], "past the end of the file");
}

#[test]
fn elf64() {
    let elf = ElfSpec { class: 2, ..ElfSpec::exec(&RESET) };
    assert_bad_file("elf64", &elf.bytes(), "not a 32-bit MIPS ELF");
}

#[test]
fn bad_class_and_byte_order() {
    let mut bytes = ElfSpec::exec(&RESET).bytes();
    bytes[4] = 7;
    assert_bad_file("class7", &bytes, "malformed ELF");
    let mut bytes = ElfSpec::exec(&RESET).bytes();
    bytes[5] = 9;
    assert_bad_file("data9", &bytes, "byte order");
}

#[test]
fn x86_machine() {
    let elf = ElfSpec { machine: 62, ..ElfSpec::exec(&RESET) };
    assert_bad_file("x86", &elf.bytes(), "not a 32-bit MIPS ELF");
}

#[test]
fn relocatable_and_shared_objects() {
    let rel = ElfSpec { e_type: 1, ..ElfSpec::exec(&RESET) };
    assert_bad_file("et_rel", &rel.bytes(), "not an executable");
    let dyn_ = ElfSpec { e_type: 3, ..ElfSpec::exec(&RESET) };
    assert_bad_file("et_dyn", &dyn_.bytes(), "not an executable");
}

#[test]
fn segment_in_kuseg() {
    let mut elf = ElfSpec::exec(&RESET);
    elf.segs[0].vaddr = 0x0040_0000;
    elf.entry = 0x0040_0000;
    assert_bad_file("kuseg", &elf.bytes(), "outside guest RAM");
}

#[test]
fn segment_beyond_ram() {
    let mut elf = ElfSpec::exec(&RESET);
    elf.segs[0].vaddr = 0x9f00_0000; // physical 0x1f000000
    elf.entry = 0x9f00_0000;
    let dir = TempDir::new("beyond_ram");
    let path = dir.file("beyond.elf", &elf.bytes());
    assert_error(&mipsjit(&["run", "--memory", "16", &path]), 2, &[&path, "0x9f000000", "outside guest RAM"]);
    // Fits in the RAM, but its zero fill runs past the end.
    let mut elf = ElfSpec::exec(&RESET);
    elf.segs[0].bss = 16 << 20;
    let dir = TempDir::new("beyond_ram_bss");
    let path = dir.file("bss.elf", &elf.bytes());
    assert_error(&mipsjit(&["run", "--memory", "16", &path]), 2, &[&path, "outside guest RAM"]);
}

#[test]
fn segment_in_kseg2() {
    let mut elf = ElfSpec::exec(&RESET);
    elf.segs[0].vaddr = 0xc000_0000;
    elf.entry = 0xc000_0000;
    assert_bad_file("kseg2", &elf.bytes(), "outside guest RAM");
}

#[test]
fn entry_outside_segments() {
    let elf = ElfSpec { entry: BASE + 0x10_0000, ..ElfSpec::exec(&RESET) };
    assert_bad_file("entry", &elf.bytes(), "entry point 0x80200000");
}

#[test]
fn no_loadable_segment() {
    let mut elf = ElfSpec::exec(&RESET);
    elf.segs[0].p_type = PT_NOTE;
    assert_bad_file("no_load", &elf.bytes(), "no loadable segment");
    let elf = ElfSpec { segs: vec![], ..ElfSpec::exec(&RESET) };
    assert_bad_file("no_phdrs", &elf.bytes(), "no loadable segment");
}

#[test]
fn absurd_program_header_count() {
    let mut bytes = ElfSpec::exec(&RESET).bytes();
    bytes[44..46].copy_from_slice(&0xffffu16.to_le_bytes());
    assert_bad_file("phnum", &bytes, "program headers run past the end of the file");
}

// ---- Bad options ----

#[test]
fn bad_options() {
    let dir = TempDir::new("options");
    let path = dir.file("ok.elf", &ElfSpec::exec(&RESET).bytes());
    assert_usage_error(&["run", "--jit=sometimes", &path], "sometimes");
    assert_usage_error(&["run", "--memory", "0", &path], "--memory");
    assert_usage_error(&["run", "--memory", "lots", &path], "--memory");
    assert_usage_error(&["run", "--max-insns", "-5", &path], "-5");
    assert_usage_error(&["run"], "PROGRAM");
    assert_usage_error(&["fly", &path], "fly");
    assert_usage_error(&[], "Usage");
}

/// More RAM than the Malta map holds below its I/O window is a usage error.
#[test]
fn memory_the_board_cannot_hold() {
    let dir = TempDir::new("big_memory");
    let path = dir.file("ok.elf", &ElfSpec::exec(&RESET).bytes());
    let out = mipsjit(&["run", "--memory", "512", &path]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("512") && !err.contains("panicked"), "{err}");
}
