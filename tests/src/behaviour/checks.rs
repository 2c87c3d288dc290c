//! The named behaviour checks and the tests each concerns.

use crate::catalogue::{Project, Test};

/// One named check.
#[derive(Clone, Copy, Debug)]
pub struct CheckSpec {
    pub name: &'static str,
    /// What it checks, for `pintos test --checks`.
    pub summary: &'static str,
    /// Whether it runs for `test` in `project`.
    pub applies: fn(&Test, Project) -> bool,
    /// Whether it needs the kernel's claims (docs/claims.md); without them it is skipped
    /// and says so.
    pub needs_claims: bool,
}

/// User-program tests of a kernel with virtual memory.
fn vm_user(t: &Test, p: Project) -> bool {
    p.has_vm() && !t.is_kernel_test()
}

/// The tests whose anonymous memory cannot fit in RAM: any kernel must swap to pass them.
/// (swap-file's pages are file-backed and go back to their file; swap-fork's children may
/// share their pages copy-on-write and never need the swap disk.)
fn swap_test(t: &Test, p: Project) -> bool {
    vm_user(t, p) && matches!(t.name(), "swap-anon" | "swap-iter")
}

/// Every check, in report order.
pub static CHECKS: &[CheckSpec] = &[
    CheckSpec { name: "lazy-load", summary: "at a process's first user instruction no page of its executable's segments is present beyond the entry's; the executable's sectors are read from disk only for pages that faulted", applies: vm_user, needs_claims: false },
    CheckSpec { name: "file-offset", summary: "each lazily loaded page of an executable holds the ELF file's bytes at that page's segment offset", applies: vm_user, needs_claims: false },
    CheckSpec { name: "lazy-claims", summary: "the kernel's lazy-load claims agree with an independent page-table walk: each claimed page faulted first, is present, and came from the ELF's offset for it", applies: vm_user, needs_claims: true },
    CheckSpec { name: "phys-addr", summary: "each int 0x42 answer (the physical address lazy-anon and lazy-file ask about, or its KERN_BASE alias) agrees with an independent walk of the page tables", applies: vm_user, needs_claims: false },
    CheckSpec { name: "stack-growth", summary: "new stack pages appear only for faults inside the allowed window (at most 8 bytes below rsp, within 1 MiB of USER_STACK)", applies: vm_user, needs_claims: false },
    CheckSpec { name: "swap-used", summary: "a swap test really writes pages to the swap disk and reads them back", applies: swap_test, needs_claims: false },
    CheckSpec { name: "swap-content", summary: "every swap-disk read returns sectors written earlier in the run; every swap-out claim wrote its slot, every swap-in reads back the page swapped out to it, and no page is lost or shares a slot with another", applies: vm_user, needs_claims: false },
    CheckSpec { name: "mmap-writeback", summary: "write-back (munmap, exit, eviction) writes only changed sectors, and only sectors a mapped page was read from", applies: vm_user, needs_claims: false },
    CheckSpec { name: "frames", summary: "user frames and swap slots return to their starting counts by power-off, and no user page is mapped then", applies: vm_user, needs_claims: true },
];

/// The check named `name`.
pub fn find(name: &str) -> Option<&'static CheckSpec> {
    CHECKS.iter().find(|c| c.name == name)
}
