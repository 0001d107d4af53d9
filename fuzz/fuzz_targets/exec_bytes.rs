//! Arbitrary bytes as guest code: the interpreter and the JIT must never
//! crash the host and must end in the same state. See ../README.md.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runtime::cp0::Cp0;
use runtime::devices::malta;
use runtime::{Cpu, Exit, JitMode, Machine};
use std::cell::RefCell;

// The encoders, the exception handler and the reset stub of the
// differential tests.
#[path = "../../tests/all/gen.rs"]
#[allow(unused_imports)]
mod mipsgen;
use mipsgen as g;

/// Instructions each tier may run.
const LIMIT: u64 = 10_000;
/// Longest code taken from an input.
const MAX_CODE: usize = 4096;

/// Everything the tiers must agree on.
#[derive(PartialEq)]
struct State {
    regs: Regs,
    mem: Vec<u8>,
}

#[derive(Debug, PartialEq)]
struct Regs {
    exit: Exit,
    pc: u32,
    icount: u64,
    llbit: bool,
    hi: u32,
    lo: u32,
    gpr: [u32; 32],
    cp0: Cp0,
}

fn guest_bytes(words: &[u32], big_endian: bool) -> Vec<u8> {
    words.iter().flat_map(|w| if big_endian { w.to_be_bytes() } else { w.to_le_bytes() }).collect()
}

fn new_machine(big_endian: bool, mode: JitMode) -> Machine {
    let phys = malta::build(g::RAM_BYTES, big_endian, Box::new(std::io::sink())).expect("board");
    Machine::new(Cpu::new(phys, big_endian), mode).expect("machine")
}

/// Gives `m` a fresh CPU over the same RAM with `code` loaded, and drops all
/// of its cached code (machines are reused: a JIT per input would leak its
/// code arena).
fn load(m: &mut Machine, code: &[u8]) {
    let be = m.cpu.big_endian;
    let mut stale: Vec<u32> = m.cpu.code_pages.keys().copied().collect();
    stale.extend(m.cpu.dirty_code.iter().map(|&(p, _)| p));
    let ram = std::mem::take(&mut m.cpu.phys);
    let mut cpu = Cpu::new(ram, be);
    let p = &mut cpu.phys;
    // Empty RAM jumps to a reset stub, so landing there ends the run.
    let pad = guest_bytes(&[g::j(0x8000_1000), g::NOP], be).repeat(g::RAM_BYTES / 8);
    p.write_bytes(0, &pad).expect("RAM");
    p.write_bytes(0, &[0; 0x1000]).expect("RAM");
    let handler = guest_bytes(&g::handler(), be);
    p.write_bytes(g::phys(g::REFILL_VECTOR), &handler).expect("RAM");
    p.write_bytes(g::phys(g::GENERAL_VECTOR), &handler).expect("RAM");
    p.write_bytes(0x1000, &guest_bytes(&g::reset_stub(), be)).expect("RAM");
    p.write_bytes(0x2000, &[0; 0x2000]).expect("RAM");
    // Scratch and stack: a fixed pattern.
    let pattern: Vec<u8> = (0..(g::RANDOM_PHYS.end - g::RANDOM_PHYS.start) as u32)
        .map(|i| (i.wrapping_mul(0x9e37_79b9) >> 24) as u8)
        .collect();
    p.write_bytes(g::RANDOM_PHYS.start, &pattern).expect("RAM");
    p.write_bytes(g::phys(g::CODE), code).expect("RAM");
    let mut after = code.len() as u64;
    after = (after + 3) & !3;
    p.write_bytes(g::phys(g::CODE) + after, &guest_bytes(&g::reset_stub(), be)).expect("RAM");
    for r in 1..32 {
        cpu.s.gpr[r] = (r as u32).wrapping_mul(0x0101_0101) ^ 0x8000_0000;
    }
    cpu.s.gpr[g::S0 as usize] = g::SCRATCH_BASE;
    cpu.s.gpr[g::S1 as usize] = g::SCRATCH_BASE | 0x2000_0000;
    cpu.s.gpr[g::S2 as usize] = 0x0040_0000;
    cpu.s.gpr[g::SP as usize] = g::STACK_BASE;
    cpu.s.hi = 0x1234_5678;
    cpu.s.lo = 0x9abc_def0;
    cpu.s.pc = g::CODE;
    cpu.cp0.status = 0;
    cpu.cp0.ebase = 0x8000_0000;
    cpu.dirty_code = stale.into_iter().map(|p| (p, u128::MAX)).collect();
    *m.cpu = cpu;
}

fn run(m: &mut Machine, code: &[u8]) -> State {
    load(m, code);
    let exit = m.run(Some(LIMIT));
    let c = &m.cpu;
    let mut mem = vec![0; g::COMPARED_PHYS.end as usize];
    c.phys.read_bytes(0, &mut mem).expect("RAM");
    let regs = Regs {
        exit,
        pc: c.s.pc,
        icount: c.icount(),
        llbit: c.llbit,
        hi: c.s.hi,
        lo: c.s.lo,
        gpr: c.s.gpr,
        cp0: c.cp0.clone(),
    };
    State { regs, mem }
}

/// Reused machines: (interpreter, JIT) for little- and big-endian guests.
struct Pair {
    interp: Machine,
    jit: Machine,
    uses: u32,
}

thread_local! {
    static PAIRS: RefCell<[Option<Pair>; 2]> = const { RefCell::new([None, None]) };
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, code)) = data.split_first() else { return };
    let big_endian = flags & 1 != 0;
    let code = &code[..code.len().min(MAX_CODE)];
    PAIRS.with(|pairs| {
        let mut pairs = pairs.borrow_mut();
        let slot = &mut pairs[big_endian as usize];
        // Rebuild now and then: dropped blocks' code stays in the JIT's arena.
        if slot.as_ref().is_none_or(|p| p.uses >= 1000) {
            *slot = Some(Pair {
                interp: new_machine(big_endian, JitMode::Never),
                jit: new_machine(big_endian, JitMode::Always),
                uses: 0,
            });
        }
        let pair = slot.as_mut().expect("just built");
        pair.uses += 1;
        // Half the inputs as if profiled on kseg0 only (no inline soft-TLB
        // probe in kernel code), as `auto` mode compiles most kernel blocks.
        pair.jit.assumed_profile = if flags & 2 != 0 { Some(0) } else { None };
        let a = run(&mut pair.interp, code);
        let b = run(&mut pair.jit, code);
        if a != b {
            let mut diff = String::new();
            for (x, y) in format!("{:#x?}", a.regs).lines().zip(format!("{:#x?}", b.regs).lines()) {
                if x != y {
                    diff.push_str(&format!("  interp {} | jit {}\n", x.trim(), y.trim()));
                }
            }
            if let Some(i) = a.mem.iter().zip(&b.mem).position(|(x, y)| x != y) {
                diff.push_str(&format!("  memory differs first at phys {i:#x}\n"));
            }
            panic!("the tiers diverged ({}-endian):\n{diff}", if big_endian { "big" } else { "little" });
        }
    });
});
