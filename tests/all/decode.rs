//! Differential disassembly: `frontend`'s decoder and disassembler against
//! `mipsel-linux-gnu-objdump -d` on the code of the real guest images.
//!
//! Every word of every executable section is decoded and printed, so a
//! decoder panic fails the test, and compared with objdump's text at the
//! same address. At least [`MIN_MATCH_RATE`] of the lines must match
//! exactly, and every kind of difference must be listed, with its reason,
//! in `tests/data/disasm-expected-diffs.txt`; an entry that no longer
//! occurs fails too, so the file stays true.

use frontend::{Disasm, decode};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const OBJDUMP: &str = "mipsel-linux-gnu-objdump";
const MIN_MATCH_RATE: f64 = 0.999;
const EXPECTED_DIFFS: &str = "tests/data/disasm-expected-diffs.txt";

#[test]
fn busybox_disassembles_like_objdump() {
    check("busybox-1.35.0-static-mipsel");
}

#[test]
fn vmlinuz_disassembles_like_objdump() {
    // A zboot image: its code is the decompressor, which is all objdump
    // shows; the kernel proper is compressed data in `.data`.
    check("vmlinuz-6.1.0-50-4kc-malta");
}

/// The guest images: `$MIPSJIT_GUESTS`, else `../shared/guests` beside the
/// repository, else `build/guests` (where `scripts/fetch-guests.sh` puts them).
pub(crate) fn guests_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("MIPSJIT_GUESTS") {
        return PathBuf::from(d);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared/guests");
    if shared.is_dir() { shared } else { root.join("build/guests") }
}

/// A kind of difference: objdump's mnemonic (or `<none>` when it printed
/// nothing at that address) and ours.
type Class = (String, String);

/// Compares our disassembly of the guest image `guest` with objdump's; fails
/// on an unlisted difference, a stale expectation or a low match rate.
fn check(guest: &str) {
    let path = guests_dir().join(guest);
    let elf = std::fs::read(&path).unwrap_or_else(|e| {
        panic!("cannot read {}: {e}; set MIPSJIT_GUESTS to the guest images directory", path.display())
    });
    let comparison = compare(guest, &elf, objdump(&path));
    let rate = comparison.matched as f64 / comparison.total as f64;
    println!("{guest}: {}/{} lines match objdump ({:.4}%)", comparison.matched, comparison.total, rate * 100.0);

    let expected = expected_diffs(guest);
    let mut problems = String::new();
    for (class, examples) in &comparison.diffs {
        if !expected.contains_key(class) {
            let (theirs, ours, n) = (&class.0, &class.1, examples.len());
            let _ = writeln!(problems, "unlisted difference {theirs} -> {ours} ({n} lines), e.g.:");
            for example in examples.iter().take(5) {
                let _ = writeln!(problems, "    {example}");
            }
        }
    }
    for (class, reason) in &expected {
        if !comparison.diffs.contains_key(class) {
            let (theirs, ours) = class;
            let _ = writeln!(problems, "stale entry in {EXPECTED_DIFFS}: {guest} {theirs} {ours} ({reason})");
        }
    }
    if rate < MIN_MATCH_RATE {
        let _ = writeln!(problems, "match rate {:.4}% is below {}%", rate * 100.0, MIN_MATCH_RATE * 100.0);
    }
    assert!(problems.is_empty(), "{guest} against {OBJDUMP}:\n{problems}");
}

/// How our disassembly of one guest compares with objdump's.
struct Comparison {
    /// Words compared.
    total: usize,
    /// Words whose text matches objdump's exactly.
    matched: usize,
    /// The other words by class, as printable example lines.
    diffs: BTreeMap<Class, Vec<String>>,
}

/// Decodes and prints every word of `elf`'s code, comparing each line with
/// `theirs`, objdump's text by address.
fn compare(guest: &str, elf: &[u8], mut theirs: HashMap<u32, (u32, String)>) -> Comparison {
    let mut comparison = Comparison { total: 0, matched: 0, diffs: BTreeMap::new() };
    let mut ours = String::new();
    for section in code_sections(elf) {
        for (k, chunk) in section.bytes.chunks_exact(4).enumerate() {
            let pc = section.addr + 4 * k as u32;
            let word = u32::from_le_bytes(chunk.try_into().expect("chunks are 4 bytes"));
            let insn = decode(word);
            ours.clear();
            write!(ours, "{}", Disasm { insn, pc }).expect("writing to a String");
            comparison.total += 1;
            let text = match theirs.remove(&pc) {
                Some((their_word, text)) => {
                    let section = &section.name;
                    assert_eq!(their_word, word, "{guest} {section}: objdump read another word at {pc:x}");
                    text
                }
                None => String::from("<none>"),
            };
            if text == ours {
                comparison.matched += 1;
            } else {
                let class = (mnemonic(&text).to_owned(), mnemonic(&ours).to_owned());
                let example = format!("{pc:8x}: {word:08x}  objdump `{text}`  ours `{ours}`");
                comparison.diffs.entry(class).or_default().push(example);
            }
        }
    }
    let extra = theirs.len();
    assert_eq!(extra, 0, "{guest}: objdump printed {extra} addresses outside the code sections we read");
    comparison
}

/// The mnemonic of a disassembly line: the text before the first tab.
fn mnemonic(text: &str) -> &str {
    text.split('\t').next().unwrap_or(text)
}

/// The classes listed for `guest` in [`EXPECTED_DIFFS`], with their reasons.
/// Lines are `guest objdump-mnemonic our-mnemonic reason...`; `#` starts a
/// comment line.
fn expected_diffs(guest: &str) -> HashMap<Class, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(EXPECTED_DIFFS);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut classes = HashMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [file, theirs, ours, reason @ ..] = fields.as_slice() else {
            panic!("{EXPECTED_DIFFS}: `{line}` is not `guest objdump-mnemonic our-mnemonic reason`");
        };
        assert!(!reason.is_empty(), "{EXPECTED_DIFFS}: `{line}` gives no reason");
        if *file == guest {
            classes.insert((theirs.to_string(), ours.to_string()), reason.join(" "));
        }
    }
    classes
}

/// objdump's instruction text by address, with the word it read there.
fn objdump(path: &Path) -> HashMap<u32, (u32, String)> {
    // -z: also disassemble runs of zero words, which plain -d elides as
    // "...", so that every word is compared.
    let output = match Command::new(OBJDUMP).args(["-d", "-z"]).arg(path).output() {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            panic!(
                "{OBJDUMP} is not installed: install binutils-mipsel-linux-gnu (apt-get install binutils-mipsel-linux-gnu)"
            )
        }
        Err(e) => panic!("cannot run {OBJDUMP}: {e}"),
    };
    assert!(
        output.status.success(),
        "{OBJDUMP} -d {} failed: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("objdump prints UTF-8");
    stdout.lines().filter_map(parse_objdump_line).collect()
}

/// Parses an instruction line such as `  400190:\t3c1c0005 \tlui\tgp,0x5`
/// into `(address, (word, text))`. Other lines give `None`.
///
/// When objdump can name a branch target it prints it as bare hex followed
/// by the name (`b\t84 <foo+0x40>`), and as `0x84` only when it cannot; we
/// know no symbols, so the name is dropped and the `0x` restored.
fn parse_objdump_line(line: &str) -> Option<(u32, (u32, String))> {
    let (address, rest) = line.split_once(":\t")?;
    let address = u32::from_str_radix(address.trim_start(), 16).ok()?;
    let (word, text) = rest.split_once(" \t").unwrap_or((rest.trim_end(), ""));
    if word.len() != 8 {
        return None;
    }
    let word = u32::from_str_radix(word, 16).ok()?;
    let text = match text.split_once(" <") {
        Some((text, _symbol)) => {
            let target_at = text.rfind([',', '\t']).map_or(0, |i| i + 1);
            let (head, target) = text.split_at(target_at);
            if target.starts_with("0x") { text.to_owned() } else { format!("{head}0x{target}") }
        }
        None => text.trim_end().to_owned(),
    };
    Some((address, (word, text)))
}

/// An executable section of an ELF file.
struct Section {
    name: String,
    addr: u32,
    bytes: Vec<u8>,
}

/// The `SHT_PROGBITS` sections with `SHF_EXECINSTR` of a little-endian
/// ELF32 file: what `objdump -d` disassembles. A few lines of parsing save
/// the test a dependency.
fn code_sections(elf: &[u8]) -> Vec<Section> {
    const SHT_PROGBITS: u32 = 1;
    const SHF_EXECINSTR: u32 = 4;
    assert!(elf.starts_with(b"\x7fELF\x01\x01"), "not a little-endian ELF32 file");
    let u16_at = |at: usize| usize::from(u16::from_le_bytes([elf[at], elf[at + 1]]));
    let u32_at = |at: usize| u32::from_le_bytes(elf[at..at + 4].try_into().expect("4 bytes"));
    let offset_at = |at: usize| usize::try_from(u32_at(at)).expect("a 32-bit offset fits usize");
    let (shoff, shentsize, shnum, shstrndx) = (offset_at(0x20), u16_at(0x2e), u16_at(0x30), u16_at(0x32));
    let header = |index: usize| shoff + index * shentsize;
    let names = offset_at(header(shstrndx) + 0x10);
    (0..shnum)
        .map(header)
        .filter(|&h| u32_at(h + 4) == SHT_PROGBITS && u32_at(h + 8) & SHF_EXECINSTR != 0)
        .map(|h| {
            let name = &elf[names + offset_at(h)..];
            let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
            let (offset, size) = (offset_at(h + 0x10), offset_at(h + 0x14));
            Section {
                name: String::from_utf8_lossy(name).into_owned(),
                addr: u32_at(h + 0xc),
                bytes: elf[offset..offset + size].to_vec(),
            }
        })
        .collect()
}

#[test]
fn objdump_lines_parse() {
    assert_eq!(
        parse_objdump_line("  400190:\t3c1c0005 \tlui\tgp,0x5"),
        Some((0x40_0190, (0x3c1c_0005, "lui\tgp,0x5".to_owned())))
    );
    assert_eq!(
        parse_objdump_line("810f0028:\t14c4fffd \tbne\ta2,a0,810f0020 <.text+0x20>"),
        Some((0x810f_0028, (0x14c4_fffd, "bne\ta2,a0,0x810f0020".to_owned())))
    );
    assert_eq!(
        parse_objdump_line("  78:\t10000002 \tb\t84 <_copy_from_user+0x40>"),
        Some((0x78, (0x1000_0002, "b\t0x84".to_owned())))
    );
    assert_eq!(parse_objdump_line("  400324:\t00000000 \tnop"), Some((0x40_0324, (0, "nop".to_owned()))));
    assert_eq!(parse_objdump_line("00400304 <.init>:"), None);
    assert_eq!(parse_objdump_line("Disassembly of section .text:"), None);
    assert_eq!(parse_objdump_line("\t..."), None);
}
