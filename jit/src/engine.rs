//! The compiler thread, code memory and the entry trampoline.
//!
//! One background thread owns the Cranelift JIT module (and so all code
//! memory); the runtime sends it decoded blocks and gets back code
//! addresses. Code memory is one reserved arena that is never freed while
//! the `Jit` lives, so an address stays valid even after its block is
//! dropped from the cache (a block may be running when it is invalidated).

use crate::abi::{Helpers, JitState, offsets};
use crate::code_memory::CodeArena;
use crate::lower::{
    EXEC_PARAMS, LOAD_PARAMS, RAISE_PARAMS, STORE_PARAMS, Shims, block_signature, helper_signature, lower_region,
};
use cranelift_codegen::Context;
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Signature, UserFuncName, types};
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{ArenaMemoryProvider, JITBuilder, JITModule};
use cranelift_module::{Module, default_libcall_names};
use frontend::GuestBlock;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

/// Address space reserved for translated code.
const CODE_ARENA_BYTES: usize = 1 << 30;

/// What translated code may assume about the guest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GuestConfig {
    /// The guest's byte order.
    pub big_endian: bool,
    /// User-mode emulation: kuseg (guest addresses below 2 GiB) is host
    /// memory starting at this address, the same for every page, and
    /// nothing else is reachable. Loads and stores then check only the
    /// top bit and alignment and go straight to `base + addr`, with no
    /// soft-TLB probe. Stores skip the soft-TLB's write protection of
    /// pages holding code, so code is only re-translated when the guest
    /// flushes the instruction cache (`cacheflush`, `synci`), which MIPS
    /// requires of it anyway.
    pub flat_user_base: Option<usize>,
    /// With [`flat_user_base`](Self::flat_user_base): each access also
    /// checks the guest's permission for its page in this table, a byte
    /// per 4 KiB page of kuseg ([`crate::abi::PAGE_READ`],
    /// [`crate::abi::PAGE_WRITE`]), and goes to the interpreter where it
    /// is not allowed, so the fault is precise. Without it, the host's
    /// protection of guest memory faults ([`crate::catch_guest_faults`]).
    pub flat_user_perms: Option<usize>,
    /// System mode: the RAM that kseg0 shows from physical address 0.
    /// Kernel blocks load from there, and store where no code is, without
    /// the soft-TLB.
    pub kseg0_ram: Option<Kseg0Ram>,
    /// Compile loops (regions, self-looping blocks) with Cranelift's
    /// optimiser. It pays with flat user memory; in system mode its
    /// loop-invariant code motion lifts the address arithmetic of the
    /// soft-TLB's out-of-line path into loop preheaders, where it takes
    /// registers (and spills) on the hot path: zboot ran 8% slower.
    pub optimize_loops: bool,
}

/// RAM seen through kseg0 from physical address 0 (see
/// [`GuestConfig::kseg0_ram`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kseg0Ram {
    /// Host address of physical address 0.
    pub base: usize,
    /// Bytes covered: a power of two, at most 512 MiB.
    pub len: usize,
    /// One byte per page from physical 0, not 0 where the page may hold
    /// translated code (`softmmu::PhysMap::code_map`): stores there take
    /// the soft-TLB, whose slow path finds the code.
    pub code_map: usize,
}

/// Address of a compiled block's code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompiledCode(usize);

impl CompiledCode {
    /// The raw code address (what exit slots hold).
    pub fn addr(self) -> usize {
        self.0
    }
}

/// Why the JIT could not be set up or could not compile a block.
#[derive(Debug, thiserror::Error)]
pub enum JitError {
    /// Cranelift does not support this host.
    #[error("unsupported host for the JIT: {0}")]
    Host(String),
    /// Compilation failed (a translator bug; the block stays interpreted).
    #[error("compiling block at {pc:#010x} failed: {msg}")]
    Compile {
        /// Guest PC of the block.
        pc: u32,
        /// Cranelift's message.
        msg: String,
    },
    /// The compiler thread is gone.
    #[error("the compiler thread stopped")]
    ThreadGone,
}

struct Request {
    id: u64,
    region: Vec<GuestBlock>,
    slots: usize,
}

/// A finished compilation: the request id and its result.
pub type Reply = (u64, Result<CompiledCode, JitError>);

/// The Cranelift tier: a compiler thread plus the entry trampoline.
pub struct Jit {
    tx: Option<Sender<Request>>,
    rx: Receiver<Reply>,
    /// Replies that arrived while waiting for a synchronous one.
    early: Vec<Reply>,
    trampoline: unsafe extern "C" fn(*mut JitState, usize) -> u32,
    next_id: u64,
    worker: Option<JoinHandle<()>>,
    /// Replies the worker has sent, and replies taken off the channel.
    done: Arc<AtomicU64>,
    taken: u64,
}

impl std::fmt::Debug for Jit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jit").field("next_id", &self.next_id).finish_non_exhaustive()
    }
}

/// Cranelift settings chosen for a JIT: fast compilation (optimisation
/// level `opt`, unless `MIPSJIT_CRANELIFT_OPT` says otherwise), and frame
/// pointers kept so that tail calls work on x86-64.
fn isa(opt: &str) -> Result<OwnedTargetIsa, JitError> {
    let mut flags = settings::builder();
    let host = |e: &dyn std::fmt::Display| JitError::Host(e.to_string());
    let opt = std::env::var("MIPSJIT_CRANELIFT_OPT").unwrap_or_else(|_| opt.into());
    let regalloc = std::env::var("MIPSJIT_CRANELIFT_REGALLOC").unwrap_or_else(|_| "backtracking".into());
    let settings = [
        ("opt_level", opt.as_str()),
        ("regalloc_algorithm", regalloc.as_str()),
        ("preserve_frame_pointers", "true"),
        ("enable_verifier", "false"),
    ];
    for (k, v) in settings {
        flags.set(k, v).map_err(|e| host(&e))?;
    }
    let isa = cranelift_native::builder().map_err(|e| host(&e))?;
    isa.finish(settings::Flags::new(flags)).map_err(|e| host(&e))
}

struct Compiler {
    module: JITModule,
    ctx: Context,
    fctx: FunctionBuilderContext,
    helpers: Shims,
    guest: GuestConfig,
    /// The ISA with Cranelift's optimiser on, for loops (see `compile`),
    /// when [`GuestConfig::optimize_loops`] asks for it.
    optimizing: Option<OwnedTargetIsa>,
    /// `MIPSJIT_DUMP` set: print each block's guest code and host code.
    dump: bool,
    /// `MIPSJIT_PERF_MAP` set: /tmp/perf-PID.map, naming each block by its
    /// guest PC for `perf report`.
    perf_map: Option<std::fs::File>,
}

impl Compiler {
    fn new(helpers: Helpers, guest: GuestConfig) -> Result<Self, JitError> {
        let mut builder = JITBuilder::with_isa(isa("none")?, default_libcall_names());
        let optimizing = if guest.optimize_loops { Some(isa("speed")?) } else { None };
        let host = |e: &dyn std::fmt::Display| JitError::Host(e.to_string());
        if cfg!(target_arch = "x86_64") {
            builder.memory_provider(Box::new(CodeArena::new(CODE_ARENA_BYTES).map_err(|e| host(&e))?));
        } else {
            let arena = ArenaMemoryProvider::new_with_size(CODE_ARENA_BYTES).map_err(|e| host(&e))?;
            builder.memory_provider(Box::new(arena));
        }
        let module = JITModule::new(builder);
        let dump = std::env::var_os("MIPSJIT_DUMP").is_some();
        let perf_map = std::env::var_os("MIPSJIT_PERF_MAP")
            .and_then(|_| std::fs::File::create(format!("/tmp/perf-{}.map", std::process::id())).ok());
        let fctx = FunctionBuilderContext::new();
        let shims = Shims {
            load: 0,
            store: 0,
            exec: 0,
            exec_direct: helpers.exec as usize,
            raise: 0,
            cp0: helpers.cp0,
            fpu: helpers.fpu,
            user: helpers.user,
        };
        let mut c =
            Self { ctx: module.make_context(), module, fctx, helpers: shims, guest, optimizing, dump, perf_map };
        c.helpers = Shims {
            load: c.shim(helpers.load as usize, LOAD_PARAMS, types::I64)?.addr(),
            store: c.shim(helpers.store as usize, STORE_PARAMS, types::I32)?.addr(),
            exec: c.shim(helpers.exec as usize, EXEC_PARAMS, types::I32)?.addr(),
            raise: c.shim(helpers.raise as usize, RAISE_PARAMS, types::I32)?.addr(),
            ..c.helpers
        };
        Ok(c)
    }

    /// A `preserve_all` function of the state pointer that calls the host
    /// helper at `helper` (system_v, taking the state pointer and then
    /// `params[1..]` from `JitState::helper_args`, returning `ret`) and
    /// stores its result in `JitState::helper_ret`. Translated code calls
    /// helpers through these, so a slow path clobbers no register of the
    /// block and pins only the one the state pointer is in anyway.
    fn shim(&mut self, helper: usize, params: &[types::Type], ret: types::Type) -> Result<CompiledCode, JitError> {
        self.build_stub(helper_signature(CallConv::PreserveAll, &[types::I64], None), |b, args| {
            let sig = b.import_signature(helper_signature(CallConv::SystemV, params, Some(ret)));
            let state = args[0];
            let mut args = vec![state];
            for (i, &t) in params.iter().enumerate().skip(1) {
                args.push(b.ins().load(t, MemFlagsData::trusted(), state, offsets::helper_arg(i - 1)));
            }
            let f = b.ins().iconst(types::I64, helper as i64);
            let call = b.ins().call_indirect(sig, f, &args);
            let mut r = b.inst_results(call)[0];
            if ret != types::I64 {
                r = b.ins().uextend(types::I64, r);
            }
            b.ins().store(MemFlagsData::trusted(), r, state, offsets::HELPER_RET);
            b.ins().return_(&[]);
        })
    }

    /// Compiles a one-block function with signature `sig` whose body `body`
    /// emits, given the function's parameters.
    fn build_stub(
        &mut self,
        sig: Signature,
        body: impl FnOnce(&mut FunctionBuilder<'_>, &[cranelift_codegen::ir::Value]),
    ) -> Result<CompiledCode, JitError> {
        self.ctx.func.signature = sig;
        let cfg = self.module.target_config();
        let mut b = FunctionBuilder::new(&mut self.ctx.func, &mut self.fctx);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let args = b.block_params(entry).to_vec();
        body(&mut b, &args);
        b.finalize(cfg);
        self.finish(0, false)
    }

    /// Compiles the function in `self.ctx` (with the optimiser if
    /// `optimize` and it is enabled) into code memory.
    fn finish(&mut self, pc: u32, optimize: bool) -> Result<CompiledCode, JitError> {
        let err = |msg: String| JitError::Compile { pc, msg };
        let id = self.module.declare_anonymous_function(&self.ctx.func.signature).map_err(|e| err(e.to_string()))?;
        self.ctx.set_disasm(self.dump);
        let r = match self.optimizing.as_deref().filter(|_| optimize) {
            // Translated code has no relocations (helpers are called through
            // constant addresses), so the bytes can go in as they are.
            Some(isa) => match self.ctx.compile(isa, &mut Default::default()) {
                Ok(code) if code.buffer.relocs().is_empty() => {
                    let align = (code.buffer.alignment as u64).max(64);
                    let bytes = code.code_buffer().to_vec();
                    self.module.define_function_bytes(id, align, &bytes, &[]).map_err(|e| format!("{e:?}"))
                }
                Ok(_) => Err("optimised code has relocations".into()),
                Err(e) => Err(format!("{:?}", e.inner)),
            },
            None => self.module.define_function(id, &mut self.ctx).map_err(|e| format!("{e:?}")),
        };
        if let (true, Some(code)) = (self.dump, self.ctx.compiled_code()) {
            eprintln!("{}", code.vcode.as_deref().unwrap_or(""));
        }
        let size = self.ctx.compiled_code().map_or(0, |c| c.code_buffer().len());
        self.module.clear_context(&mut self.ctx);
        r.map_err(err)?;
        self.module.finalize_definitions().map_err(|e| err(e.to_string()))?;
        let addr = self.module.get_finalized_function(id) as usize;
        if let Some(map) = self.perf_map.as_mut() {
            // perf's JIT symbol map format: START SIZE NAME, in hex.
            let _ = writeln!(map, "{addr:x} {size:x} guest_{pc:08x}");
        }
        Ok(CompiledCode(addr))
    }

    /// `system_v fn(state, code) -> u32 { call code(state) }`: how host code
    /// enters the tail-calling world of blocks.
    fn trampoline(&mut self) -> Result<CompiledCode, JitError> {
        let sig = helper_signature(CallConv::SystemV, &[types::I64, types::I64], Some(types::I32));
        self.build_stub(sig, |b, args| {
            let (state, code) = (args[0], args[1]);
            let sig = b.import_signature(block_signature());
            let call = b.ins().call_indirect(sig, code, &[state]);
            let r = b.inst_results(call)[0];
            b.ins().return_(&[r]);
        })
    }

    fn compile(&mut self, region: &[GuestBlock], slots: usize) -> Result<CompiledCode, JitError> {
        let start = region.first().map_or(0, |g| g.start);
        if region.is_empty() || region.iter().any(|g| !crate::compilable(g)) {
            return Err(JitError::Compile { pc: start, msg: "not a compilable region".into() });
        }
        self.ctx.func.signature = block_signature();
        self.ctx.func.name = UserFuncName::user(0, start);
        if self.dump {
            for g in region {
                for (k, i) in g.insns.iter().enumerate() {
                    let pc = g.start.wrapping_add(4 * k as u32);
                    eprintln!("{pc:08x}: {}", frontend::disasm(*i, pc));
                }
            }
        }
        let cfg = self.module.target_config();
        let mut b = FunctionBuilder::new(&mut self.ctx.func, &mut self.fctx);
        let lowered = lower_region(&mut b, region, &self.helpers, self.guest, slots);
        b.finalize(cfg);
        if let Err(msg) = lowered {
            self.module.clear_context(&mut self.ctx);
            return Err(JitError::Compile { pc: start, msg });
        }
        // Loops (a region, or a block branching to itself) run long enough
        // to repay the optimiser's compile time (where it helps, see
        // `GuestConfig::optimize_loops`); the rest is compiled fast.
        let looping = region.len() > 1 || region[0].successors().contains(&Some(start));
        self.finish(start, looping)
    }
}

impl Jit {
    /// Starts the compiler thread for the guest `guest` describes.
    pub fn new(helpers: Helpers, guest: GuestConfig) -> Result<Self, JitError> {
        let (tx, requests) = channel::<Request>();
        let (replies, rx) = channel::<Reply>();
        let (ready_tx, ready) = channel();
        let done = Arc::new(AtomicU64::new(0));
        let done_worker = done.clone();
        let worker = std::thread::Builder::new()
            .name("mipsjit-compiler".into())
            .spawn(move || {
                let mut c = match Compiler::new(helpers, guest) {
                    Ok(c) => c,
                    Err(e) => return drop(ready_tx.send(Err(e))),
                };
                if ready_tx.send(c.trampoline().map(|t| t.addr())).is_err() {
                    return;
                }
                // Newest first: when requests pile up (a kernel boot runs
                // through code faster than Cranelift compiles it), the
                // newest hot block is the likeliest to run again soon, while
                // the oldest may belong to a phase the guest has left.
                let mut stack = Vec::new();
                loop {
                    if stack.is_empty() {
                        match requests.recv() {
                            Ok(r) => stack.push(r),
                            Err(_) => return,
                        }
                    }
                    stack.extend(requests.try_iter());
                    let Some(r) = stack.pop() else { continue };
                    if replies.send((r.id, c.compile(&r.region, r.slots))).is_err() {
                        return;
                    }
                    done_worker.fetch_add(1, Ordering::Release);
                }
            })
            .map_err(|e| JitError::Host(e.to_string()))?;
        let addr = ready.recv().map_err(|_| JitError::ThreadGone)??;
        // SAFETY: `addr` is the finalized code of `Compiler::trampoline`, whose
        // Cranelift signature is system_v (i64, i64) -> i32, matching this type.
        let trampoline =
            unsafe { std::mem::transmute::<usize, unsafe extern "C" fn(*mut JitState, usize) -> u32>(addr) };
        Ok(Self { tx: Some(tx), rx, early: Vec::new(), trampoline, next_id: 0, worker: Some(worker), done, taken: 0 })
    }

    /// Queues `block` for compilation; its exit slots are the two words at
    /// `slots`, which must stay put until the reply is consumed and for as
    /// long as the code may run. Returns the request id.
    pub fn submit(&mut self, block: &GuestBlock, slots: &mut [usize; 2]) -> Result<u64, JitError> {
        self.submit_region(std::slice::from_ref(block), slots)
    }

    /// Queues a region for compilation as one function entered at
    /// `region[0]`: jumps between its blocks stay in the function. The
    /// blocks must be on one page (so that one mapping covers them all).
    /// Block `j` exits through `slots[2j]` and `slots[2j + 1]`, which must
    /// stay put as for [`submit`](Self::submit).
    pub fn submit_region(&mut self, region: &[GuestBlock], slots: &mut [usize]) -> Result<u64, JitError> {
        let page = region.first().map(|g| g.start >> 12);
        if slots.len() < 2 * region.len() || region.iter().any(|g| Some(g.start >> 12) != page) {
            let pc = region.first().map_or(0, |g| g.start);
            return Err(JitError::Compile { pc, msg: "a region needs one page and two exit slots per block".into() });
        }
        let id = self.next_id;
        self.next_id += 1;
        let req = Request { id, region: region.to_vec(), slots: slots.as_mut_ptr() as usize };
        self.tx.as_ref().ok_or(JitError::ThreadGone)?.send(req).map_err(|_| JitError::ThreadGone)?;
        Ok(id)
    }

    /// Whether a finished compilation may be waiting: one atomic load, so
    /// the dispatcher can ask before every block.
    pub fn has_results(&self) -> bool {
        !self.early.is_empty() || self.done.load(Ordering::Acquire) != self.taken
    }

    /// A finished compilation, if one is ready.
    pub fn try_recv(&mut self) -> Option<Reply> {
        if let Some(r) = self.early.pop() {
            return Some(r);
        }
        let r = self.rx.try_recv().ok();
        self.taken += r.is_some() as u64;
        r
    }

    /// Compiles `block` and waits for the result.
    pub fn compile(&mut self, block: &GuestBlock, slots: &mut [usize; 2]) -> Result<CompiledCode, JitError> {
        self.compile_region(std::slice::from_ref(block), slots)
    }

    /// Compiles a region (see [`submit_region`](Self::submit_region)) and
    /// waits for the result.
    pub fn compile_region(&mut self, region: &[GuestBlock], slots: &mut [usize]) -> Result<CompiledCode, JitError> {
        let id = self.submit_region(region, slots)?;
        loop {
            let (rid, r) = self.rx.recv().map_err(|_| JitError::ThreadGone)?;
            self.taken += 1;
            if rid == id {
                return r;
            }
            self.early.push((rid, r));
        }
    }

    /// Runs compiled code until a block exits to the dispatcher; returns the
    /// raw exit reason.
    ///
    /// # Safety
    /// `state` must be valid for the whole run, with `soft_tlb` pointing at a
    /// live soft-TLB, and embedded in the structure the helpers expect; `code`
    /// must come from this `Jit`, and every exit slot its chain can reach must
    /// hold 0 or code from this `Jit`.
    pub unsafe fn enter(&self, state: *mut JitState, code: CompiledCode) -> u32 {
        // SAFETY: guaranteed by the caller; the trampoline only forwards.
        unsafe { crate::fault::enter(self.trampoline, state, code.0) }
    }
}

impl Drop for Jit {
    fn drop(&mut self) {
        // Closing the channel ends the worker's loop. The code arena is
        // deliberately leaked with the module: code addresses must never
        // dangle while a caller could still hold one.
        self.tx = None;
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}
