//! A writer of Linux initramfs images: a "newc" cpio archive, gzip-compressed.
//!
//! The kernel unpacks such an image into its rootfs before it runs `/init`, so a
//! guest userland needs no disk device. Images are reproducible: entries are
//! written in path order with inode numbers assigned in that order, every mtime
//! is 0 and the gzip header carries no timestamp, so the same inputs give
//! byte-identical output.

// Until the command line builds images, only the tests use this module.

use flate2::Compression;
use flate2::GzBuilder;
use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;

/// The default `/init` of [`busybox_image`]: mounts proc, sysfs and devtmpfs,
/// prints `mipsjit: userland up`, then runs `/test.sh` and powers off, or
/// without a `/test.sh` starts a shell on the console and powers off when it exits.
pub const DEFAULT_INIT: &str = include_str!("../guest/initramfs/init");

/// The line the default `/init` prints once userland runs, for harnesses that
/// wait for the guest to be up (scripts/bench-boot.py, tests/all/boot.rs).
#[cfg(test)]
const USERLAND_MARKER: &str = "mipsjit: userland up";

/// Applets linked in `/bin`. Not every applet: `/init` runs
/// `busybox --install -s` for the rest, so these only need to cover a shell
/// session whose `/init` is not the default one.
const BIN_APPLETS: &[&str] = &[
    "[",
    "[[",
    "ash",
    "awk",
    "basename",
    "cat",
    "chmod",
    "chown",
    "cmp",
    "cp",
    "cttyhack",
    "cut",
    "date",
    "dd",
    "diff",
    "dirname",
    "dmesg",
    "echo",
    "env",
    "expr",
    "false",
    "find",
    "free",
    "grep",
    "gunzip",
    "gzip",
    "head",
    "hexdump",
    "hostname",
    "id",
    "kill",
    "less",
    "ln",
    "ls",
    "md5sum",
    "mkdir",
    "more",
    "mount",
    "mv",
    "od",
    "printf",
    "ps",
    "pwd",
    "readlink",
    "rm",
    "rmdir",
    "sed",
    "seq",
    "setsid",
    "sh",
    "sha1sum",
    "sha256sum",
    "sleep",
    "sort",
    "stat",
    "stty",
    "sync",
    "tail",
    "tee",
    "test",
    "time",
    "touch",
    "tr",
    "true",
    "umount",
    "uname",
    "uniq",
    "uptime",
    "vi",
    "wc",
    "which",
    "xargs",
    "yes",
    "zcat",
];

/// Applets linked in `/sbin`: module handling and power control.
const SBIN_APPLETS: &[&str] =
    &["halt", "insmod", "lsmod", "mdev", "modinfo", "modprobe", "poweroff", "reboot", "rmmod", "sysctl"];

/// Directories of [`busybox_image`] with their modes; `/usr/bin` and `/usr/sbin`
/// are there because `busybox --install` links into them but does not create them.
const BUSYBOX_DIRS: &[(&str, u32)] = &[
    ("bin", 0o755),
    ("dev", 0o755),
    ("etc", 0o755),
    ("proc", 0o555),
    ("root", 0o700),
    ("sbin", 0o755),
    ("sys", 0o555),
    ("tmp", 0o1777),
    ("usr/bin", 0o755),
    ("usr/sbin", 0o755),
];

const BUSYBOX_PATH: &str = "bin/busybox";

// File type bits of `st_mode`, as the kernel's cpio unpacker reads them.
const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFLNK: u32 = 0o120000;
const S_IFCHR: u32 = 0o020000;
/// Permission, setuid/setgid and sticky bits; the file type always comes from the entry kind.
const PERM_MASK: u32 = 0o7777;

const NEWC_MAGIC: &[u8; 6] = b"070701";
const NEWC_HEADER_LEN: usize = 110;
const TRAILER: &str = "TRAILER!!!";

/// Why an entry could not be added to an [`Initramfs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitramfsError {
    /// The path is empty (or only `/`), has a `..` component or a NUL byte.
    BadPath(String),
    /// A symlink target is empty or has a NUL byte.
    BadSymlinkTarget {
        /// The symlink's path.
        path: String,
        /// The rejected target.
        target: String,
    },
    /// A component of the path already exists and is not a directory.
    NotADirectory {
        /// The path being added.
        path: String,
        /// Its ancestor that is a file, symlink or device.
        ancestor: String,
    },
    /// A directory would replace a non-directory there, or the reverse.
    KindConflict(String),
    /// newc stores sizes in 32 bits.
    TooLarge {
        /// The entry's path.
        path: String,
        /// The size of its data or name in bytes.
        len: usize,
    },
}

impl fmt::Display for InitramfsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadPath(p) => write!(f, "initramfs path {p:?} is invalid (empty, `..` component or NUL byte)"),
            Self::BadSymlinkTarget { path, target } => {
                write!(f, "initramfs symlink /{path}: target {target:?} is empty or has a NUL byte")
            }
            Self::NotADirectory { path, ancestor } => {
                write!(f, "initramfs path /{path}: /{ancestor} exists and is not a directory")
            }
            Self::KindConflict(p) => {
                write!(f, "initramfs path /{p} exists already, as a directory or not, and the new entry is the other")
            }
            Self::TooLarge { path, len } => {
                write!(f, "initramfs entry /{path} needs {len} bytes; the cpio format holds at most 4 GiB - 1")
            }
        }
    }
}

impl std::error::Error for InitramfsError {}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Dir,
    File(Vec<u8>),
    Symlink(String),
    CharDev { major: u32, minor: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    perm: u32,
    kind: Kind,
}

/// An initramfs under construction.
///
/// Paths are absolute or relative to the image root alike (`"/bin/sh"` and
/// `"bin/sh"` name the same entry); empty and `.` components are dropped.
/// Missing parent directories are created with mode 0755. Adding a path that
/// exists replaces it, except that a directory and a non-directory never
/// replace each other (re-adding a directory only changes its mode).
/// All entries are owned by root.
#[derive(Debug, Clone, Default)]
pub struct Initramfs {
    /// Keyed by the normalised path; a `BTreeMap` puts every directory before
    /// its contents (a path's prefix sorts first), which the kernel's unpacker needs.
    entries: BTreeMap<String, Entry>,
}

impl Initramfs {
    /// An empty image: the kernel's rootfs directory itself needs no entry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a directory with the permission bits of `mode`.
    pub fn dir(&mut self, path: &str, mode: u32) -> Result<(), InitramfsError> {
        self.add(path, Entry { perm: mode & PERM_MASK, kind: Kind::Dir })
    }

    /// Adds a regular file with the permission bits of `mode`.
    pub fn file(&mut self, path: &str, mode: u32, data: Vec<u8>) -> Result<(), InitramfsError> {
        self.add(path, Entry { perm: mode & PERM_MASK, kind: Kind::File(data) })
    }

    /// Adds a symbolic link (mode 0777, as Linux gives every symlink).
    pub fn symlink(&mut self, path: &str, target: &str) -> Result<(), InitramfsError> {
        if target.is_empty() || target.contains('\0') {
            return Err(InitramfsError::BadSymlinkTarget { path: normalize(path)?, target: target.to_owned() });
        }
        self.add(path, Entry { perm: 0o777, kind: Kind::Symlink(target.to_owned()) })
    }

    /// Adds a character device node, e.g. `/dev/console` (5, 1) or `/dev/null` (1, 3),
    /// so the kernel can open a console for `/init` before any devtmpfs is mounted.
    pub fn char_dev(&mut self, path: &str, mode: u32, major: u32, minor: u32) -> Result<(), InitramfsError> {
        self.add(path, Entry { perm: mode & PERM_MASK, kind: Kind::CharDev { major, minor } })
    }

    fn add(&mut self, path: &str, entry: Entry) -> Result<(), InitramfsError> {
        let path = normalize(path)?;
        // newc sizes are 32-bit; the name's size counts its NUL.
        let len = entry.data().len().max(path.len() + 1);
        if u32::try_from(len).is_err() {
            return Err(InitramfsError::TooLarge { path, len });
        }
        // Check the whole chain before changing anything, so a failed add leaves the image as it was.
        for (i, _) in path.match_indices('/') {
            let ancestor = &path[..i];
            if self.entries.get(ancestor).is_some_and(|e| e.kind != Kind::Dir) {
                return Err(InitramfsError::NotADirectory { path: path.clone(), ancestor: ancestor.to_owned() });
            }
        }
        if let Some(old) = self.entries.get(&path)
            && (old.kind == Kind::Dir) != (entry.kind == Kind::Dir)
        {
            return Err(InitramfsError::KindConflict(path));
        }
        for (i, _) in path.match_indices('/') {
            self.entries.entry(path[..i].to_owned()).or_insert(Entry { perm: 0o755, kind: Kind::Dir });
        }
        self.entries.insert(path, entry);
        Ok(())
    }

    /// The uncompressed newc archive, trailer included.
    pub fn to_cpio(&self) -> Vec<u8> {
        let data_len: usize = self.entries.values().map(|e| e.data().len() + 3).sum();
        let mut out = Vec::with_capacity(data_len + (self.entries.len() + 1) * (NEWC_HEADER_LEN + 64));
        for (ino, (path, entry)) in (1u32..).zip(&self.entries) {
            let (nlink, rdev) = match entry.kind {
                Kind::Dir => (2, (0, 0)),
                Kind::CharDev { major, minor } => (1, (major, minor)),
                Kind::File(_) | Kind::Symlink(_) => (1, (0, 0)),
            };
            let header = Header { ino, mode: entry.file_type() | entry.perm, nlink, rdev };
            write_entry(&mut out, &header, path, entry.data());
        }
        write_entry(&mut out, &Header { ino: 0, mode: 0, nlink: 1, rdev: (0, 0) }, TRAILER, &[]);
        out
    }

    /// The archive gzip-compressed, as the kernel's `-initrd` loader takes it.
    ///
    /// The gzip header has mtime 0 and no file name, so the output depends on
    /// the entries only.
    pub fn to_gzip(&self) -> std::io::Result<Vec<u8>> {
        let cpio = self.to_cpio();
        let mut gz = GzBuilder::new().mtime(0).write(Vec::with_capacity(cpio.len() / 2), Compression::best());
        gz.write_all(&cpio)?;
        gz.finish()
    }
}

impl Entry {
    fn file_type(&self) -> u32 {
        match self.kind {
            Kind::Dir => S_IFDIR,
            Kind::File(_) => S_IFREG,
            Kind::Symlink(_) => S_IFLNK,
            Kind::CharDev { .. } => S_IFCHR,
        }
    }

    /// What newc stores as the entry's data: a file's contents, a symlink's target.
    fn data(&self) -> &[u8] {
        match &self.kind {
            Kind::File(data) => data,
            Kind::Symlink(target) => target.as_bytes(),
            Kind::Dir | Kind::CharDev { .. } => &[],
        }
    }
}

/// The header fields that differ between entries; the rest are 0 (uid, gid,
/// mtime, the device of the file system, the checksum of the newc variant without one).
struct Header {
    ino: u32,
    mode: u32,
    nlink: u32,
    rdev: (u32, u32),
}

fn write_entry(out: &mut Vec<u8>, h: &Header, name: &str, data: &[u8]) {
    // `Initramfs::add` rejected anything whose sizes do not fit in 32 bits.
    let (filesize, namesize) = (data.len() as u32, (name.len() + 1) as u32);
    let fields = [h.ino, h.mode, 0, 0, h.nlink, 0, filesize, 0, 0, h.rdev.0, h.rdev.1, namesize, 0];
    out.extend_from_slice(NEWC_MAGIC);
    for field in fields {
        // The kernel accepts either case; GNU cpio writes upper case.
        out.extend_from_slice(format!("{field:08X}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
    out.extend_from_slice(data);
    pad4(out);
}

/// newc aligns both the data and the next header to 4 bytes from the archive start.
fn pad4(out: &mut Vec<u8>) {
    out.resize(out.len().next_multiple_of(4), 0);
}

/// The path relative to the image root, with empty and `.` components dropped.
fn normalize(path: &str) -> Result<String, InitramfsError> {
    let parts: Vec<&str> = path.split('/').filter(|c| !c.is_empty() && *c != ".").collect();
    if parts.is_empty() || parts.contains(&"..") || path.contains('\0') {
        return Err(InitramfsError::BadPath(path.to_owned()));
    }
    Ok(parts.join("/"))
}

/// The standard image: a static busybox at `/bin/busybox` with applet symlinks
/// in `/bin` and `/sbin`, `/init` from `init_script` (see [`DEFAULT_INIT`]), the
/// directories a busybox userland expects (`/dev /proc /sys /tmp /root /etc`...),
/// `/dev/console` and `/dev/null`, then `extra` files as (guest path, contents,
/// mode), which may replace any of the above except directories.
pub fn busybox_image(
    busybox: &[u8],
    init_script: &str,
    extra: &[(String, Vec<u8>, u32)],
) -> Result<Initramfs, InitramfsError> {
    let mut img = Initramfs::new();
    for &(dir, mode) in BUSYBOX_DIRS {
        img.dir(dir, mode)?;
    }
    img.file(BUSYBOX_PATH, 0o755, busybox.to_vec())?;
    let target = format!("/{BUSYBOX_PATH}");
    for (dir, applets) in [("bin", BIN_APPLETS), ("sbin", SBIN_APPLETS)] {
        for applet in applets {
            img.symlink(&format!("{dir}/{applet}"), &target)?;
        }
    }
    img.char_dev("dev/console", 0o600, 5, 1)?;
    img.char_dev("dev/null", 0o666, 1, 3)?;
    img.file("init", 0o755, init_script.as_bytes().to_vec())?;
    for (path, data, mode) in extra {
        img.file(path, *mode, data.clone())?;
    }
    Ok(img)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use std::io::Read;
    use std::path::PathBuf;

    /// One entry read back from a newc archive.
    #[derive(Debug)]
    struct Parsed {
        name: String,
        ino: u32,
        mode: u32,
        nlink: u32,
        mtime: u32,
        rdev: (u32, u32),
        data: Vec<u8>,
    }

    /// A minimal newc reader, independent of the writer, that checks the layout
    /// rules as it goes. Returns the entries before the trailer.
    fn parse(cpio: &[u8]) -> Vec<Parsed> {
        let mut out = Vec::new();
        let mut pos = 0;
        loop {
            assert_eq!(pos % 4, 0, "header at {pos} is not 4-aligned");
            let hdr = &cpio[pos..pos + NEWC_HEADER_LEN];
            assert_eq!(&hdr[..6], b"070701", "magic at {pos}");
            let field = |i: usize| {
                let s = std::str::from_utf8(&hdr[6 + 8 * i..14 + 8 * i]).expect("ascii field");
                u32::from_str_radix(s, 16).expect("hex field")
            };
            let (filesize, namesize) = (field(6) as usize, field(11) as usize);
            assert_eq!((field(2), field(3)), (0, 0), "uid/gid");
            assert_eq!(field(12), 0, "check");
            let name_start = pos + NEWC_HEADER_LEN;
            let name_bytes = &cpio[name_start..name_start + namesize];
            assert_eq!(name_bytes.last(), Some(&0), "name is NUL-terminated");
            let name = std::str::from_utf8(&name_bytes[..namesize - 1]).expect("utf-8 name").to_owned();
            let data_start = (name_start + namesize).next_multiple_of(4);
            assert!(cpio[name_start + namesize..data_start].iter().all(|&b| b == 0), "name padding");
            let data = cpio[data_start..data_start + filesize].to_vec();
            let next = (data_start + filesize).next_multiple_of(4);
            assert!(cpio[data_start + filesize..next].iter().all(|&b| b == 0), "data padding");
            pos = next;
            if name == TRAILER {
                assert_eq!(filesize, 0);
                assert_eq!(pos, cpio.len(), "nothing after the trailer");
                return out;
            }
            out.push(Parsed {
                name,
                ino: field(0),
                mode: field(1),
                nlink: field(4),
                mtime: field(5),
                rdev: (field(9), field(10)),
                data,
            });
        }
    }

    fn find<'a>(entries: &'a [Parsed], name: &str) -> &'a Parsed {
        entries.iter().find(|e| e.name == name).unwrap_or_else(|| panic!("{name} missing"))
    }

    #[test]
    fn initramfs_cpio_layout() {
        let mut img = Initramfs::new();
        img.dir("/bin", 0o755).unwrap();
        img.file("/bin/x", 0o100644, b"hello".to_vec()).unwrap(); // type bits in mode are ignored
        img.file("empty", 0o600, Vec::new()).unwrap();
        img.file("four", 0o600, b"abcd".to_vec()).unwrap();
        img.symlink("/bin/sh", "/bin/busybox").unwrap();
        img.char_dev("dev/console", 0o600, 5, 1).unwrap();
        let cpio = img.to_cpio();
        let entries = parse(&cpio);
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["bin", "bin/sh", "bin/x", "dev", "dev/console", "empty", "four"]);

        let x = find(&entries, "bin/x");
        assert_eq!((x.mode, x.nlink, x.data.as_slice()), (0o100644, 1, &b"hello"[..]));
        let sh = find(&entries, "bin/sh");
        assert_eq!((sh.mode, sh.data.as_slice()), (0o120777, &b"/bin/busybox"[..]));
        let bin = find(&entries, "bin");
        assert_eq!((bin.mode, bin.nlink), (0o040755, 2));
        let console = find(&entries, "dev/console");
        assert_eq!((console.mode, console.rdev, console.data.len()), (0o020600, (5, 1), 0));
        assert_eq!(find(&entries, "dev").mode, 0o040755, "auto-created parent");
        assert_eq!(find(&entries, "four").data, b"abcd");

        let mut inos: Vec<u32> = entries.iter().map(|e| e.ino).collect();
        inos.sort_unstable();
        inos.dedup();
        assert_eq!(inos.len(), entries.len(), "inode numbers are unique");
        assert!(inos.iter().all(|&i| i != 0));
        assert!(entries.iter().all(|e| e.mtime == 0));
    }

    #[test]
    fn initramfs_parents_created_once() {
        let mut img = Initramfs::new();
        img.file("a/b/c/one", 0o644, b"1".to_vec()).unwrap();
        img.file("a/b/c/two", 0o644, b"2".to_vec()).unwrap();
        img.file("a/b/three", 0o644, b"3".to_vec()).unwrap();
        img.dir("a/b", 0o700).unwrap(); // re-adding a directory changes its mode only
        img.file("a//./b/c/one", 0o600, b"one".to_vec()).unwrap(); // same path, replaced
        let entries = parse(&img.to_cpio());
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["a", "a/b", "a/b/c", "a/b/c/one", "a/b/c/two", "a/b/three"]);
        assert_eq!(find(&entries, "a/b").mode, 0o040700);
        assert_eq!(find(&entries, "a/b/c/one").data, b"one");
        assert_eq!(find(&entries, "a/b/c/one").mode, 0o100600);
    }

    #[test]
    fn initramfs_rejects_bad_paths() {
        let mut img = Initramfs::new();
        img.file("f", 0o644, Vec::new()).unwrap();
        img.dir("d", 0o755).unwrap();
        let before = img.to_cpio();
        for bad in ["", "/", "//.", "../etc", "a/../b", "a\0b"] {
            assert_eq!(img.dir(bad, 0o755), Err(InitramfsError::BadPath(bad.to_owned())));
        }
        assert!(matches!(img.file("f/x", 0o644, Vec::new()), Err(InitramfsError::NotADirectory { .. })));
        assert!(matches!(img.dir("f", 0o755), Err(InitramfsError::KindConflict(_))));
        assert!(matches!(img.symlink("d", "/x"), Err(InitramfsError::KindConflict(_))));
        assert!(matches!(img.symlink("l", ""), Err(InitramfsError::BadSymlinkTarget { .. })));
        assert_eq!(img.to_cpio(), before, "failed adds change nothing");
        let msg = img.file("f/x", 0o644, Vec::new()).unwrap_err().to_string();
        assert_eq!(msg, "initramfs path /f/x: /f exists and is not a directory");
    }

    #[test]
    fn initramfs_empty_archive_is_just_the_trailer() {
        let cpio = Initramfs::new().to_cpio();
        assert!(parse(&cpio).is_empty());
        assert_eq!(cpio.len(), (NEWC_HEADER_LEN + TRAILER.len() + 1).next_multiple_of(4));
    }

    fn sample_image() -> Initramfs {
        let fake_busybox: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let extra = vec![
            ("/test.sh".to_owned(), b"uname -a\n".to_vec(), 0o755),
            ("/lib/modules/m.ko".to_owned(), vec![0x7f, b'E', b'L', b'F'], 0o644),
        ];
        busybox_image(&fake_busybox, DEFAULT_INIT, &extra).unwrap()
    }

    #[test]
    fn initramfs_gzip_round_trip_and_reproducible() {
        let img = sample_image();
        let gz = img.to_gzip().unwrap();
        assert_eq!(&gz[..4], &[0x1f, 0x8b, 8, 0], "gzip magic, deflate, no flags (no file name)");
        assert_eq!(&gz[4..8], &[0, 0, 0, 0], "gzip mtime 0");
        let mut cpio = Vec::new();
        GzDecoder::new(gz.as_slice()).read_to_end(&mut cpio).unwrap();
        assert_eq!(cpio, img.to_cpio());
        assert_eq!(sample_image().to_gzip().unwrap(), gz, "two builds are byte-identical");
    }

    #[test]
    fn initramfs_busybox_image_contents() {
        let entries = parse(&sample_image().to_cpio());
        let init = find(&entries, "init");
        assert_eq!((init.mode, init.data.as_slice()), (0o100755, DEFAULT_INIT.as_bytes()));
        assert!(DEFAULT_INIT.contains(USERLAND_MARKER));
        assert_eq!(find(&entries, "bin/busybox").data.len(), 100_000);
        for applet in ["bin/sh", "bin/cttyhack", "bin/[", "sbin/insmod", "sbin/poweroff"] {
            let e = find(&entries, applet);
            assert_eq!((e.mode, e.data.as_slice()), (0o120777, &b"/bin/busybox"[..]), "{applet}");
        }
        assert_eq!(find(&entries, "dev/null").rdev, (1, 3));
        assert_eq!(find(&entries, "tmp").mode, 0o041777);
        assert_eq!(find(&entries, "lib").mode, 0o040755, "parent of an extra file");
        assert_eq!(find(&entries, "test.sh").data, b"uname -a\n");
        for dir in ["proc", "sys", "root", "etc", "usr", "usr/bin", "usr/sbin"] {
            assert_eq!(find(&entries, dir).mode & S_IFDIR, S_IFDIR, "{dir}");
        }
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted, "sorted, each once");
    }

    /// Writes the real image for a manual check with cpio(1) and a QEMU boot:
    /// `MIPSJIT_INITRD_OUT=/tmp/mipsjit-initrd.gz [MIPSJIT_TEST_SH=file] cargo test
    /// --release --bin mipsjit initramfs_write_real_image -- --ignored`.
    #[test]
    #[ignore = "writes a file; needs the pinned busybox"]
    fn initramfs_write_real_image() {
        let guests = std::env::var_os("MIPSJIT_GUESTS")
            .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/guests"), PathBuf::from);
        let busybox = std::fs::read(guests.join("busybox-1.35.0-static-mipsel")).expect("busybox");
        let out = std::env::var_os("MIPSJIT_INITRD_OUT").unwrap_or_else(|| "/tmp/mipsjit-initrd.gz".into());
        let mut extra = Vec::new();
        if let Some(test_sh) = std::env::var_os("MIPSJIT_TEST_SH") {
            extra.push(("test.sh".to_owned(), std::fs::read(test_sh).expect("test.sh"), 0o755));
        }
        let img = busybox_image(&busybox, DEFAULT_INIT, &extra).unwrap();
        std::fs::write(&out, img.to_gzip().unwrap()).expect("write the image");
    }
}
