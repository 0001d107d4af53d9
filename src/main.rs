//! `mipsjit`: the command-line program, a thin client of the `runtime` API.

mod console;
mod initramfs;

use clap::{Parser, Subcommand, ValueEnum};
use runtime::boot::{BootImages, boot_linux, rng_seed};
use runtime::clock::TimeMode;
use runtime::devices::malta;
use runtime::loader::{elf_big_endian, load_elf};
use runtime::vm::VcpuConfig;
use runtime::{Cpu, CpuModel, Exit, JitMode, Machine};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "mipsjit", version, about = "A dynamic binary translator for MIPS guests")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Jit {
    /// Interpreter only.
    Never,
    /// Compile every block before it first runs.
    Always,
    /// Interpret, compile hot blocks in the background.
    Auto,
}

/// The emulated core, named as QEMU's `-cpu` names it.
#[derive(Clone, Copy, ValueEnum)]
enum CpuArg {
    /// MIPS 24Kc: no FPU (floating point traps to the kernel's emulator).
    #[value(name = "24Kc")]
    Kc24,
    /// MIPS 24Kf: the 24Kc with an FPU.
    #[value(name = "24Kf")]
    Kf24,
}

#[derive(Subcommand)]
enum Command {
    /// Run a bare-metal ELF on a Malta board; the guest's UART goes to stdout.
    Run {
        /// The guest program (a MIPS32 ELF linked in kseg0/kseg1).
        program: PathBuf,
        #[command(flatten)]
        m: MachineArgs,
    },
    /// Boot a Linux kernel on a Malta board, as `qemu-system-mipsel -M malta
    /// -kernel`; the console is this terminal (Ctrl-A X quits).
    Boot(BootArgs),
    /// Run an o32 mipsel Linux program on this host, translating its system
    /// calls (like `qemu-mipsel`); exits with the guest's status.
    User {
        /// Which execution tier runs guest code.
        #[arg(long, value_enum, default_value = "auto")]
        jit: Jit,
        /// Look up the program interpreter and the guest's absolute paths
        /// here first, as `qemu-mipsel -L` [default: $QEMU_LD_PREFIX, else
        /// /usr/mipsel-linux-gnu if it exists].
        #[arg(short = 'L', value_name = "SYSROOT")]
        sysroot: Option<PathBuf>,
        /// The guest's `argv[0]`, when not PROGRAM (as qemu-mipsel's `-0`).
        #[arg(long, allow_hyphen_values = true)]
        argv0: Option<std::ffi::OsString>,
        /// Set by mipsjit itself when a guest's child runs `execve`.
        #[arg(long, hide = true)]
        guest_child: bool,
        /// Set by mipsjit itself: the standard descriptors the guest had
        /// closed at its `execve`.
        #[arg(long, hide = true, value_delimiter = ',')]
        closed_fds: Vec<i32>,
        /// Print the instruction count and counters on exit.
        #[arg(long)]
        stats: bool,
        /// The program (a MIPS32 o32 little-endian Linux ELF: static or
        /// dynamic, fixed-address or PIE).
        program: PathBuf,
        /// Its arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
    /// Build a gzip'd initramfs: busybox-static, an /init, and your files.
    Initramfs(InitramfsArgs),
}

#[derive(clap::Args)]
struct InitramfsArgs {
    /// Where to write the image (a gzip'd newc cpio archive).
    #[arg(short, long)]
    output: PathBuf,
    /// A static mipsel busybox [default: busybox-1.35.0-static-mipsel from
    /// $MIPSJIT_GUESTS, ../shared/guests or build/guests].
    #[arg(long)]
    busybox: Option<PathBuf>,
    /// A script to use as /init instead of the default (which runs /test.sh
    /// if present, else an interactive shell, then powers off).
    #[arg(long)]
    init: Option<PathBuf>,
    /// Add a host file as HOST:GUEST_PATH (or HOST, to /root/NAME); repeatable.
    #[arg(long, value_name = "HOST[:GUEST]")]
    add: Vec<String>,
}

/// Options of every subcommand that runs a Malta machine.
#[derive(clap::Args)]
struct MachineArgs {
    /// Which execution tier runs guest code.
    #[arg(long, value_enum, default_value = "auto")]
    jit: Jit,
    /// Guest RAM in MiB (the Malta map has room for 256 MiB below the I/O window).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=256))]
    memory: u32,
    /// Stop after this many guest instructions (exit status 3).
    #[arg(long)]
    max_insns: Option<u64>,
    /// Print execution counters to stderr at the end.
    #[arg(long)]
    stats: bool,
    /// The emulated core.
    #[arg(long, value_enum, default_value = "24Kc", ignore_case = true)]
    cpu: CpuArg,
}

#[derive(clap::Args)]
struct BootArgs {
    /// The kernel (an ELF vmlinux or vmlinuz for the Malta board).
    #[arg(long)]
    kernel: PathBuf,
    /// Guest TLB entries (the 24K has 16; Config1.MMUSize allows up to 64).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=64))]
    tlb_entries: u32,
    /// An initrd or initramfs image.
    #[arg(long)]
    initrd: Option<PathBuf>,
    /// The kernel command line.
    #[arg(long, default_value = "console=ttyS0")]
    append: String,
    /// Time advances with executed instructions: two runs print the same.
    #[arg(long)]
    deterministic: bool,
    /// Exit (status 1) instead of resetting when the guest reboots.
    #[arg(long)]
    no_reboot: bool,
    #[command(flatten)]
    m: MachineArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { program, m } => match run(&program, m.jit, m.memory, m.max_insns, m.stats, model(m.cpu)) {
            Ok(code) => code,
            Err(msg) => {
                eprintln!("mipsjit: {msg}");
                ExitCode::from(2)
            }
        },
        Command::User { jit, sysroot, argv0, guest_child, closed_fds, stats, program, args } => {
            let options = runtime::linux_user::Options {
                argv0,
                guest_child,
                closed_fds,
                stats,
                ..runtime::linux_user::Options::new(tier(jit), sysroot)
            };
            ExitCode::from(runtime::linux_user::run_program(&program, &args, &options))
        }
        Command::Initramfs(args) => match make_initramfs(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(msg) => {
                eprintln!("mipsjit: {msg}");
                ExitCode::from(2)
            }
        },
        Command::Boot(args) => {
            let r = boot(&args);
            console::restore_terminal();
            r.unwrap_or_else(|msg| {
                eprintln!("mipsjit: {msg}");
                ExitCode::from(2)
            })
        }
    }
}

fn model(cpu: CpuArg) -> CpuModel {
    match cpu {
        CpuArg::Kc24 => CpuModel::Mips24Kc,
        CpuArg::Kf24 => CpuModel::Mips24Kf,
    }
}

fn tier(jit: Jit) -> JitMode {
    match jit {
        Jit::Never => JitMode::Never,
        Jit::Always => JitMode::Always,
        Jit::Auto => JitMode::Auto,
    }
}

/// Where guest images live: `$MIPSJIT_GUESTS`, `../shared/guests` beside
/// the working directory, or `build/guests` (scripts/fetch-guests.sh).
fn default_busybox() -> Result<PathBuf, String> {
    const NAME: &str = "busybox-1.35.0-static-mipsel";
    let mut dirs: Vec<PathBuf> = std::env::var_os("MIPSJIT_GUESTS").map(PathBuf::from).into_iter().collect();
    dirs.extend(["../shared/guests", "build/guests"].map(PathBuf::from));
    dirs.iter().map(|d| d.join(NAME)).find(|p| p.is_file()).ok_or_else(|| {
        format!("no {NAME} found (looked in $MIPSJIT_GUESTS, ../shared/guests, build/guests): pass --busybox, or run scripts/fetch-guests.sh")
    })
}

/// `mipsjit initramfs`.
fn make_initramfs(a: &InitramfsArgs) -> Result<(), String> {
    let busybox = match &a.busybox {
        Some(p) => p.clone(),
        None => default_busybox()?,
    };
    let bb = read_file(&busybox)?;
    let init = match &a.init {
        Some(p) => String::from_utf8(read_file(p)?).map_err(|_| format!("{}: not a text file", p.display()))?,
        None => initramfs::DEFAULT_INIT.to_string(),
    };
    let mut extra = Vec::new();
    for spec in &a.add {
        let (host, guest) = match spec.split_once(':') {
            Some((h, g)) => (PathBuf::from(h), g.to_string()),
            None => {
                let name = Path::new(spec).file_name().ok_or_else(|| format!("--add {spec}: not a file name"))?;
                (PathBuf::from(spec), format!("/root/{}", name.to_string_lossy()))
            }
        };
        let bytes = read_file(&host)?;
        // Keep the host file's permission bits (scripts stay executable).
        let mode = std::fs::metadata(&host).map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777);
        extra.push((guest, bytes, mode.unwrap_or(0o644)));
    }
    let image = initramfs::busybox_image(&bb, &init, &extra).map_err(|e| e.to_string())?;
    let gz = image.to_gzip().map_err(|e| format!("compressing the image: {e}"))?;
    std::fs::write(&a.output, gz).map_err(|e| format!("{}: {e}", a.output.display()))
}

/// `--stats`: guest exceptions taken, by kind.
fn print_exceptions(cpu: &Cpu) {
    let taken: Vec<String> =
        cpu.exceptions.iter().enumerate().filter(|(_, n)| **n > 0).map(|(c, n)| format!("{c}:{n}")).collect();
    eprintln!("mipsjit: TLB refills {}, other exceptions by ExcCode {}", cpu.tlb_refills, taken.join(" "));
}

fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// `mipsjit boot`: builds the board, boots, and resets it as often as the
/// guest asks (unless `--no-reboot`).
fn boot(a: &BootArgs) -> Result<ExitCode, String> {
    let kernel = read_file(&a.kernel)?;
    let initrd = a.initrd.as_deref().map(read_file).transpose()?;
    let kernel_name = a.kernel.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let time = if a.deterministic { TimeMode::Deterministic } else { TimeMode::RealTime };
    let cfg = VcpuConfig { jit: tier(a.m.jit), time, model: model(a.m.cpu), tlb_entries: a.tlb_entries as usize };
    let images =
        BootImages { kernel: &kernel, kernel_name: &kernel_name, initrd: initrd.as_deref(), cmdline: &a.append };
    let big_endian = elf_big_endian(&kernel).map_err(|e| format!("{}: {e}", a.kernel.display()))?;
    let ram = a.m.memory as u64 * 1024 * 1024;
    let input = console::start_input();
    let mut budget = a.m.max_insns;
    loop {
        let console = Box::new(std::io::stdout());
        let rtc_base = match time {
            TimeMode::Deterministic => 0,
            TimeMode::RealTime => {
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
            }
        };
        let board = malta::BoardConfig {
            ram_bytes: ram as usize,
            big_endian,
            console,
            input: Some(input.receiver()),
            rtc_base_unix_secs: rtc_base,
        };
        let phys = malta::build_board(board).map_err(|e| format!("cannot build the Malta board: {e}"))?;
        let mut vcpu = boot_linux(phys, ram, &images, cfg, rng_seed(time)).map_err(|e| match e {
            runtime::boot::BootError::Kernel(e) => format!("{}: {e}", a.kernel.display()),
            e => e.to_string(),
        })?;
        let start = vcpu.icount();
        let exit = vcpu.run(budget);
        budget = budget.map(|b| b.saturating_sub(vcpu.icount() - start));
        if a.m.stats {
            eprintln!("mipsjit: {} instructions, {:?}", vcpu.icount(), vcpu.stats());
            print_exceptions(&vcpu.machine().cpu);
        }
        let pc = vcpu.pc();
        drop(vcpu); // flushes the console
        match exit {
            Exit::PowerOff => return Ok(ExitCode::SUCCESS),
            Exit::Reset if a.no_reboot => {
                // Not QEMU's 0: a reboot here is usually `panic=-1` at work,
                // and a script should see that it was not a clean power-off.
                eprintln!("mipsjit: guest requested a reset at pc {pc:#010x} (--no-reboot)");
                return Ok(ExitCode::from(1));
            }
            Exit::Reset => eprintln!("mipsjit: guest reset; booting again"),
            Exit::Halted => {
                eprintln!("mipsjit: guest halted at pc {pc:#010x} (wait with interrupts disabled)");
                return Ok(ExitCode::from(1));
            }
            Exit::DebugBreakpoint(pc) => {
                eprintln!("mipsjit: guest hit sdbbp at {pc:#010x}");
                return Ok(ExitCode::from(1));
            }
            Exit::InstructionLimit => {
                eprintln!("mipsjit: instruction limit reached at pc {pc:#010x}");
                return Ok(ExitCode::from(3));
            }
            Exit::GuestException => {
                eprintln!("mipsjit: unexpected user-mode exception at pc {pc:#010x}");
                return Ok(ExitCode::from(1));
            }
        }
    }
}

fn run(
    program: &PathBuf,
    jit: Jit,
    memory: u32,
    max_insns: Option<u64>,
    stats: bool,
    model: CpuModel,
) -> Result<ExitCode, String> {
    let name = program.display();
    let bytes = std::fs::read(program).map_err(|e| format!("{name}: {e}"))?;
    let big_endian = elf_big_endian(&bytes).map_err(|e| format!("{name}: {e}"))?;
    let ram = memory as usize * 1024 * 1024;
    let console = Box::new(std::io::LineWriter::new(std::io::stdout()));
    let mut phys = malta::build(ram, big_endian, console)
        .map_err(|e| format!("cannot build a Malta board with {memory} MiB of RAM: {e}"))?;
    let image = load_elf(&bytes, &mut phys, ram as u64).map_err(|e| format!("{name}: {e}"))?;
    let mut cpu = Cpu::with_model(phys, big_endian, model);
    boot_registers(&mut cpu, image.entry, memory);
    let mut m = Machine::new(cpu, tier(jit)).map_err(|e| e.to_string())?;
    let exit = m.run(max_insns);
    if stats {
        eprintln!("mipsjit: {} instructions, {:?}", m.cpu.icount(), m.stats);
        print_exceptions(&m.cpu);
    }
    drop(m); // flushes the console
    Ok(match exit {
        Exit::Reset | Exit::PowerOff => ExitCode::SUCCESS,
        Exit::Halted => {
            eprintln!("mipsjit: guest halted (wait with interrupts disabled)");
            ExitCode::from(1)
        }
        Exit::DebugBreakpoint(pc) => {
            eprintln!("mipsjit: guest hit sdbbp at {pc:#010x}");
            ExitCode::from(1)
        }
        Exit::InstructionLimit => {
            eprintln!("mipsjit: instruction limit reached");
            ExitCode::from(3)
        }
        Exit::GuestException => {
            eprintln!("mipsjit: unexpected user-mode exception");
            ExitCode::from(1)
        }
    })
}

/// The registers QEMU's Malta boot stub leaves for the ELF entry point
/// (reference/malta-boot.md §1.2): a YAMON-style argc/argv/envp and RAM size.
fn boot_registers(cpu: &mut Cpu, entry: u32, memory_mib: u32) {
    let g = &mut cpu.s.gpr;
    g[4] = 2; // a0: argc
    g[5] = 0x8000_2000; // a1: argv
    g[6] = 0x8000_2008; // a2: envp
    g[7] = memory_mib.min(256) << 20; // a3: RAM size
    g[25] = entry; // t9
    g[29] = 0x8000_1fc0; // sp
    cpu.s.pc = entry;
}
