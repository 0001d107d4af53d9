//! `mipsjit`: the command-line program, a thin client of the `runtime` API.

use clap::{Parser, Subcommand, ValueEnum};
use runtime::devices::malta;
use runtime::loader::{elf_big_endian, load_elf};
use runtime::{Cpu, Exit, JitMode, Machine};
use std::path::PathBuf;
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

#[derive(Subcommand)]
enum Command {
    /// Run a bare-metal ELF on a Malta board; the guest's UART goes to stdout.
    Run {
        /// The guest program (a MIPS32 ELF linked in kseg0/kseg1).
        program: PathBuf,
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
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { program, jit, memory, max_insns, stats } => match run(&program, jit, memory, max_insns, stats) {
            Ok(code) => code,
            Err(msg) => {
                eprintln!("mipsjit: {msg}");
                ExitCode::from(2)
            }
        },
    }
}

fn run(program: &PathBuf, jit: Jit, memory: u32, max_insns: Option<u64>, stats: bool) -> Result<ExitCode, String> {
    let name = program.display();
    let bytes = std::fs::read(program).map_err(|e| format!("{name}: {e}"))?;
    let big_endian = elf_big_endian(&bytes).map_err(|e| format!("{name}: {e}"))?;
    let ram = memory as usize * 1024 * 1024;
    let console = Box::new(std::io::LineWriter::new(std::io::stdout()));
    let mut phys = malta::build(ram, big_endian, console)
        .map_err(|e| format!("cannot build a Malta board with {memory} MiB of RAM: {e}"))?;
    let image = load_elf(&bytes, &mut phys, ram as u64).map_err(|e| format!("{name}: {e}"))?;
    let mut cpu = Cpu::new(phys, big_endian);
    boot_registers(&mut cpu, image.entry, memory);
    let mode = match jit {
        Jit::Never => JitMode::Never,
        Jit::Always => JitMode::Always,
        Jit::Auto => JitMode::Auto,
    };
    let mut m = Machine::new(cpu, mode).map_err(|e| e.to_string())?;
    let exit = m.run(max_insns);
    if stats {
        eprintln!("mipsjit: {} instructions, {:?}", m.cpu.icount(), m.stats);
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
