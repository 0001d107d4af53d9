//! The soft-MMU: guest virtual → guest physical → host memory or device.
//!
//! - [`segment`]: the fixed MIPS32 segments (kuseg, kseg0, kseg1, kseg2/3)
//!   and the privilege rules for each.
//! - [`SoftTlb`]: a direct-mapped host-side cache from guest virtual page to
//!   a host address addend, `repr(C)` so translated code probes it inline.
//! - [`GuestTlb`]: the guest's own MIPS TLB (stage one, GVA → GPA).
//! - [`PhysMap`]: guest physical memory: RAM regions and MMIO devices.
//!
//! No Cranelift and no CPU state here: the runtime owns the walk that ties
//! these together (its slow path), the JIT only reads [`SoftTlbEntry`]s.
#![deny(missing_docs)]

pub mod guest_tlb;
mod phys_map;
pub mod segment;
pub mod soft_tlb;

pub use guest_tlb::{GuestTlb, TlbEntry, TlbHit};
pub use phys_map::{BusCtx, DeviceAction, MmioDevice, PhysMap, PhysMapError, Ram, Target};
pub use soft_tlb::{SOFT_TLB_BITS, SOFT_TLB_SIZE, SoftTlb, SoftTlbEntry};

/// The kind of a memory access, as the exception rules distinguish them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A data load.
    Load,
    /// A data store.
    Store,
    /// An instruction fetch.
    Fetch,
}
