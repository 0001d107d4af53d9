//! Tier-1 translation latency: how long Cranelift takes per guest block and
//! per guest instruction (compare DESIGN.md: ~20 µs fixed + 5-7 µs/insn).
//!
//! Blocks are real code: the basic blocks of the static busybox in
//! ../shared/guests (or $MIPSJIT_GUESTS), scanned with the same front end
//! the runtime uses. Run: `cargo bench --bench translate`.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use frontend::{GuestBlock, scan_block};
use jit::Jit;
use jit::abi::{Helpers, JitState};
use std::path::PathBuf;

unsafe extern "C" fn load(_: *mut JitState, _: u32, _: u32, _: u32) -> u64 {
    0
}
unsafe extern "C" fn store(_: *mut JitState, _: u32, _: u32, _: u32, _: u32) -> u32 {
    0
}
unsafe extern "C" fn exec(_: *mut JitState, _: u32, _: u32) -> u32 {
    0
}
unsafe extern "C" fn raise(_: *mut JitState, _: u32, _: u32) -> u32 {
    2
}

/// `$MIPSJIT_GUESTS`, else ../shared/guests, else build/guests (see
/// scripts/fetch-guests.sh).
fn guests() -> PathBuf {
    if let Some(d) = std::env::var_os("MIPSJIT_GUESTS") {
        return PathBuf::from(d);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared/guests");
    if shared.is_dir() { shared } else { root.join("build/guests") }
}

/// Basic blocks of busybox's text, bucketed by length.
fn busybox_blocks() -> Vec<GuestBlock> {
    let path = guests().join("busybox-1.35.0-static-mipsel");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let elf = goblin::elf::Elf::parse(&bytes).expect("busybox is an ELF");
    let text = elf.section_headers.iter().find(|s| elf.shdr_strtab.get_at(s.sh_name) == Some(".text")).expect(".text");
    let (base, off, len) = (text.sh_addr as u32, text.sh_offset as usize, text.sh_size as usize);
    let word = |a: u32| -> Result<u32, ()> {
        let i = off + (a - base) as usize;
        if a < base || (a - base) as usize + 4 > len {
            return Err(());
        }
        Ok(u32::from_le_bytes(bytes[i..i + 4].try_into().map_err(|_| ())?))
    };
    let mut out = Vec::new();
    let mut pc = base;
    while ((pc - base) as usize) < len && out.len() < 4000 {
        let Ok(b) = scan_block(pc, word) else { break };
        pc = b.end();
        if jit::compilable(&b) {
            out.push(b);
        }
    }
    out
}

fn translate(c: &mut Criterion) {
    let helpers = Helpers { load, store, exec, raise };
    let mut jit = Jit::new(helpers, false).expect("host supports the JIT");
    let blocks = busybox_blocks();
    let insns: usize = blocks.iter().map(|b| b.insns.len()).sum();
    let mut g = c.benchmark_group("translate");
    g.sample_size(10);
    g.throughput(Throughput::Elements(insns as u64));
    g.bench_function(format!("busybox {} blocks, {insns} insns", blocks.len()), |bench| {
        bench.iter_batched(
            || vec![[0usize; 2]; blocks.len()],
            |mut slots| {
                for (b, s) in blocks.iter().zip(slots.iter_mut()) {
                    jit.compile(b, s).expect("compiles");
                }
                slots
            },
            BatchSize::PerIteration,
        )
    });
    for n in [5usize, 20, 60] {
        let Some(b) = blocks.iter().find(|b| b.insns.len() == n) else { continue };
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("one block of {n} insns"), |bench| {
            let mut slots = [0usize; 2];
            bench.iter(|| jit.compile(b, &mut slots).expect("compiles"))
        });
    }
    g.finish();
}

criterion_group!(benches, translate);
criterion_main!(benches);
