//! Booting a Linux kernel on the Malta board as QEMU's `-kernel`, `-initrd`
//! and `-append` do (reference/malta-boot.md §2): the kernel ELF in kseg0,
//! the initrd near the top of low RAM, YAMON-style argv and environment at
//! physical 0x2000, and the registers the boot stub leaves. The stub itself
//! is skipped: the board's devices start in the state it leaves them in.

use crate::clock::TimeMode;
use crate::loader::{LoadError, elf_big_endian, load_elf};
use crate::vm::{Vcpu, VcpuConfig, Vm};
use softmmu::{PhysMap, PhysMapError};

/// Physical address of the argv/envp block (kseg0 0x80002000).
pub const ARGV_BASE: u32 = 0x2000;
/// Pointers in the argv/envp table.
const ENV_ENTRIES: u32 = 16;
/// Bytes reserved for each string.
const ENV_STRING: u32 = 256;

/// What to boot.
#[derive(Debug, Clone, Default)]
pub struct BootImages<'a> {
    /// The kernel ELF (a MIPS32 `vmlinux` or `vmlinuz` zboot image).
    pub kernel: &'a [u8],
    /// The file name the kernel is told it was loaded from (`argv[0]`).
    pub kernel_name: &'a str,
    /// An initrd or initramfs, copied into RAM as is.
    pub initrd: Option<&'a [u8]>,
    /// The kernel command line (after the rd_start/rd_size QEMU prepends).
    pub cmdline: &'a str,
}

/// Why a boot could not start.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    /// The kernel image is unusable.
    #[error("kernel: {0}")]
    Kernel(#[from] LoadError),
    /// The initrd does not fit below the top of low RAM.
    #[error("initrd of {size} bytes does not fit in {ram} bytes of RAM beside the kernel")]
    InitrdTooBig {
        /// Initrd size.
        size: usize,
        /// RAM size.
        ram: u64,
    },
    /// The command line does not fit in the 256-byte argv string.
    #[error("the kernel command line is {0} bytes; at most {max} fit", max = ENV_STRING - 1)]
    CmdlineTooLong(usize),
    /// Guest memory could not be set up.
    #[error("{0}")]
    Memory(#[from] PhysMapError),
    /// The translator could not start.
    #[error("{0}")]
    Jit(#[from] jit::JitError),
}

/// Loads `images` into the board `phys` (with `ram` bytes of RAM at 0) and
/// returns a vCPU at the kernel's entry point.
pub fn boot_linux(
    mut phys: PhysMap,
    ram: u64,
    images: &BootImages<'_>,
    cfg: VcpuConfig,
    rng_seed: [u8; 32],
) -> Result<Vcpu, BootError> {
    let big_endian = elf_big_endian(images.kernel)?;
    let image = load_elf(images.kernel, &mut phys, ram)?;
    let ram_low = ram.min(256 << 20);
    let mut cmdline = String::new();
    if let Some(initrd) = images.initrd {
        // QEMU's placement: below the top of low RAM with 128 KiB to
        // spare, 64 KiB aligned. KASLR moves the kernel only within
        // ~16 MiB past its end, so the initrd must stay high.
        let size = initrd.len() as u64;
        let top = ram_low.checked_sub(size + (128 << 10)).filter(|&t| t >= image.phys_end);
        let Some(top) = top else { return Err(BootError::InitrdTooBig { size: initrd.len(), ram }) };
        let offset = top.next_multiple_of(64 << 10).min(ram_low - size) & !0xfff;
        phys.write_bytes(offset, initrd)?;
        // QEMU prints the kseg0 address sign-extended to 64 bits; the
        // kernel's memparse truncates it.
        cmdline = format!("rd_start=0xffffffff{:08x} rd_size={size} ", 0x8000_0000u64 + offset);
    }
    cmdline.push_str(images.cmdline);
    let cmdline = cmdline.trim_end().to_string();
    if cmdline.len() >= ENV_STRING as usize {
        return Err(BootError::CmdlineTooLong(cmdline.len()));
    }
    let seed: String = rng_seed.iter().map(|b| format!("{b:02x}")).collect();
    let memsize = ram_low.to_string();
    let ememsize = ram.to_string();
    let strings = [
        images.kernel_name,
        &cmdline,
        "memsize",
        &memsize,
        "ememsize",
        &ememsize,
        "modetty0",
        "38400n8r",
        "rngseed",
        &seed,
    ];
    write_argv_env(&mut phys, &strings, big_endian)?;

    let mut vcpu = Vm::from_phys(phys, big_endian).create_vcpu(cfg)?;
    // What the boot stub leaves (reference/malta-boot.md §1.2).
    vcpu.set_gpr(4, 2); // a0: argc
    vcpu.set_gpr(5, 0x8000_0000 | ARGV_BASE); // a1: argv
    vcpu.set_gpr(6, 0x8000_0000 | (ARGV_BASE + 8)); // a2: envp
    vcpu.set_gpr(7, ram_low as u32); // a3: RAM size
    vcpu.set_gpr(25, image.entry); // t9
    vcpu.set_gpr(29, 0x8000_1fc0); // sp
    vcpu.set_gpr(31, 0xbfc0_0644); // ra: into the stub, as QEMU
    vcpu.set_pc(image.entry);
    Ok(vcpu)
}

/// Writes the argv/envp table: pointers to `strings` (argv[0], argv[1],
/// then environment name/value pairs), a NULL, the strings 256 bytes apart.
fn write_argv_env(phys: &mut PhysMap, strings: &[&str], big_endian: bool) -> Result<(), PhysMapError> {
    let word = |v: u32| if big_endian { v.to_be_bytes() } else { v.to_le_bytes() };
    let first = ARGV_BASE + ENV_ENTRIES * 4;
    for (i, s) in strings.iter().enumerate().take(ENV_ENTRIES as usize - 1) {
        let at = first + i as u32 * ENV_STRING;
        phys.write_bytes((ARGV_BASE + 4 * i as u32) as u64, &word(0x8000_0000 | at))?;
        let mut bytes = s.as_bytes()[..s.len().min(ENV_STRING as usize - 1)].to_vec();
        bytes.push(0);
        phys.write_bytes(at as u64, &bytes)?;
    }
    let end = strings.len().min(ENV_ENTRIES as usize - 1) as u32;
    phys.write_bytes((ARGV_BASE + 4 * end) as u64, &word(0))
}

/// A boot-time seed for the kernel's RNG: fixed in deterministic mode, so
/// two runs match, otherwise from the host.
pub fn rng_seed(time: TimeMode) -> [u8; 32] {
    let mut seed = [0u8; 32];
    if time == TimeMode::RealTime {
        use std::io::Read;
        // Without /dev/urandom the seed stays fixed: the guest still boots.
        if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
            let _ = f.read_exact(&mut seed);
        }
    }
    seed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_and_env_follow_the_yamon_layout() {
        let mut phys = PhysMap::default();
        phys.add_ram(0, 1 << 20, true).unwrap();
        write_argv_env(&mut phys, &["vmlinuz", "console=ttyS0", "memsize", "1024"], false).unwrap();
        let mut w = [0u8; 4 * 5];
        phys.read_bytes(ARGV_BASE as u64, &mut w).unwrap();
        let ptrs: Vec<u32> = w.chunks(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect();
        assert_eq!(ptrs, [0x8000_2040, 0x8000_2140, 0x8000_2240, 0x8000_2340, 0]);
        let mut s = [0u8; 14];
        phys.read_bytes(0x2140, &mut s).unwrap();
        assert_eq!(&s, b"console=ttyS0\0");
    }
}
