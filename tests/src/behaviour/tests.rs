//! The checks on synthetic runs: page tables built in a small guest memory and the events a
//! kernel would cause, one scenario per way a kernel can go wrong (the broken-kernel
//! variants in disk-images/tests show the same on real runs).

use std::collections::BTreeMap;

use emulator::bus::CpuEvent;
use emulator::memory::PhysMemory;
use emulator::observe::{Claim, DiskCommand, DiskRole, Event, Observer};

use super::elf::Executable;
use super::watcher::{Watcher, USER_STACK};
use super::{evaluate, CheckVerdict, CHECKS};
use crate::catalogue::{find, Project};

const PML4: u64 = 0x10_0000;

/// A guest with one address space running `args-single`.
struct Sim {
    w: Watcher,
    mem: PhysMemory,
    next: u64,
    icount: u64,
    exe: Executable,
}

impl Sim {
    fn new() -> Sim {
        let bytes = std::fs::read(std::path::Path::new(user_programs::USER_DIR).join("args-single")).unwrap();
        let exe = Executable::parse("args-single", bytes.clone()).unwrap();
        let mut s = Sim { w: Watcher::new(vec![("args-single".into(), bytes)], false), mem: PhysMemory::new(16 << 20).unwrap(), next: PML4 + 0x1000, icount: 0, exe };
        s.cpu(CpuEvent::Cr3Load { value: PML4 });
        s
    }

    fn frame(&mut self) -> u64 {
        let f = self.next;
        self.next += 0x1000;
        f
    }

    /// Maps `va` to a new frame holding `content`.
    fn map(&mut self, va: u64, content: &[u8]) {
        let mut table = PML4;
        for level in (2..=4u32).rev() {
            let slot = table + ((va >> (12 + 9 * (level - 1))) & 0x1ff) * 8;
            let e = self.mem.read_u64(slot).unwrap();
            table = if e & 1 == 0 {
                let t = self.frame();
                self.mem.write_u64(slot, t | 7).unwrap();
                t
            } else {
                e & !0xfff
            };
        }
        let f = self.frame();
        self.mem.write_u64(table + ((va >> 12) & 0x1ff) * 8, f | 7).unwrap();
        self.mem.load(f, content).unwrap();
    }

    /// What the ELF puts in the page at `va`.
    fn elf_page(&self, va: u64) -> Vec<u8> {
        let mut page = vec![0u8; 4096];
        for p in &self.exe.pages[&va].pieces {
            if let Some(f) = p.file {
                page[p.start as usize..p.end as usize].copy_from_slice(&self.exe.bytes[f as usize..(f + p.end - p.start) as usize]);
            }
        }
        page
    }

    fn cpu(&mut self, e: CpuEvent) {
        self.icount += 100;
        self.w.event(self.icount, Event::Cpu(&e), Some(&self.mem));
    }

    fn fault(&mut self, address: u64, rsp: u64) {
        self.fault_at(address, rsp, 0x400400);
    }

    /// A user fault on `address` by the instruction at `rip`.
    fn fault_at(&mut self, address: u64, rsp: u64, rip: u64) {
        self.cpu(CpuEvent::Exception { vector: 14, error_code: Some(4), rip, address, cpl: 3, cr3: PML4, rsp });
    }

    fn enter(&mut self, rip: u64) {
        self.cpu(CpuEvent::UserEntry { rip, rsp: USER_STACK - 64, rax: 0 });
    }

    fn claim(&mut self, claim: Claim) {
        self.icount += 1;
        self.w.event(self.icount, Event::Claim { claim: &claim, cr3: PML4 }, Some(&self.mem));
    }

    fn syscall(&mut self, number: u64, args: [u64; 6]) {
        self.cpu(CpuEvent::Syscall { number, rip: 0x400500, args, rsp: USER_STACK - 64 });
    }

    /// A disk command on `role` moving `sectors`, issued now.
    fn disk(&mut self, role: DiskRole, lba: u64, write: bool, sectors: &[Vec<u8>]) {
        let port = if matches!(role, DiskRole::Os | DiskRole::Fs) { 0x1f7 } else { 0x177 };
        self.cpu(CpuEvent::PortOut { port, size: 1, value: if write { 0x30 } else { 0x20 } });
        let cmd = DiskCommand { role, lba, write, hashes: sectors.iter().map(|s| emulator::observe::hash64(s)).collect() };
        self.w.event(self.icount, Event::Disk(&cmd), None);
    }

    /// Starts the process and loads its entry page lazily, as a correct kernel does.
    fn start(&mut self) {
        let entry = self.exe.entry;
        let page = entry & !0xfff;
        self.enter(entry);
        self.fault_at(entry, USER_STACK - 64, entry);
        let content = self.elf_page(page);
        self.map(page, &content);
        self.claim(Claim::LazyLoad { va: page, offset: Some(0), bytes: self.exe.pages[&page].file_range().unwrap().1 });
        self.enter(entry);
    }

    /// Every check's (verdict, reason) for `test`.
    fn verdicts(self, test: &str) -> BTreeMap<&'static str, (CheckVerdict, String)> {
        let (facts, _) = self.w.finish();
        let test = find(test).unwrap();
        let checks: Vec<_> = CHECKS.iter().filter(|c| (c.applies)(test, Project::Vm)).collect();
        evaluate(test, Project::Vm, &facts, &checks).into_iter().map(|c| (c.name, (c.verdict, c.reason))).collect()
    }
}

fn failing(v: &BTreeMap<&'static str, (CheckVerdict, String)>) -> Vec<(&'static str, String)> {
    v.iter().filter(|(_, (verdict, _))| *verdict == CheckVerdict::Fail).map(|(n, (_, r))| (*n, r.clone())).collect()
}

#[test]
fn a_lazy_kernel_passes_every_check() {
    let mut s = Sim::new();
    s.claim(Claim::Frames { in_use: 0, swap_free: 100 });
    s.start();
    // The data page, loaded on a user fault, with its claim.
    s.fault(0x402010, USER_STACK - 64);
    let data = s.elf_page(0x402000);
    s.map(0x402000, &data);
    s.claim(Claim::LazyLoad { va: 0x402000, offset: Some(0x2000), bytes: 0x160 });
    s.enter(0x400400);
    // A push just below the stack page grows the stack.
    s.fault(USER_STACK - 0x1008, USER_STACK - 0x1000);
    s.map(USER_STACK - 0x2000, &[0; 4096]);
    s.claim(Claim::StackGrowth { va: USER_STACK - 0x2000 });
    s.enter(0x400400);
    s.claim(Claim::Frames { in_use: 0, swap_free: 100 });
    s.cpu(CpuEvent::Cr3Load { value: 0x20_0000 });
    let (i, m) = (s.icount, std::mem::replace(&mut s.mem, PhysMemory::new(4 << 20).unwrap()));
    s.w.event(i, Event::PowerOff, Some(&m));
    let v = s.verdicts("tests/vm/pt-grow-stack");
    assert!(failing(&v).is_empty(), "{v:#?}");
    assert_eq!(v["frames"].0, CheckVerdict::Pass, "{v:#?}");
    assert_eq!(v["lazy-claims"].0, CheckVerdict::Pass);
}

#[test]
fn eager_loading_is_caught_at_the_first_instruction() {
    let mut s = Sim::new();
    for va in s.exe.pages.keys().copied().collect::<Vec<_>>() {
        let content = s.elf_page(va);
        s.map(va, &content);
    }
    s.enter(s.exe.entry);
    let v = s.verdicts("tests/vm/pt-grow-stack");
    let f = failing(&v);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].0, "lazy-load");
    assert!(f[0].1.starts_with("lazy-load: page 0x40") && f[0].1.contains("present before its first access"), "{}", f[0].1);
}

#[test]
fn a_page_from_the_wrong_offset_is_caught() {
    let mut s = Sim::new();
    s.start();
    s.fault(0x402010, USER_STACK - 64);
    // The data page filled from the segment's offset minus a page: the text's bytes.
    let mut wrong = vec![0u8; 4096];
    wrong[..0x160].copy_from_slice(&s.exe.bytes[0x1000..0x1160]);
    s.map(0x402000, &wrong);
    // The kernel claims the right offset: the hardware's view decides, not the claim.
    s.claim(Claim::LazyLoad { va: 0x402000, offset: Some(0x2000), bytes: 0x160 });
    s.enter(0x400400);
    let f = failing(&s.verdicts("tests/vm/pt-grow-stack"));
    assert_eq!(f.iter().map(|x| x.0).collect::<Vec<_>>(), ["file-offset"], "{f:?}");
    assert_eq!(f[0].1, "file-offset: page 0x402000 of args-single holds the file's bytes at offset 0x1000, but its segment puts offset 0x2000 there");
}

#[test]
fn reading_segments_before_their_faults_is_caught() {
    let mut s = Sim::new();
    s.start();
    // The kernel reads the data segment's sector with no fault on its page.
    let sector = s.exe.bytes[0x2000..0x2200].to_vec();
    s.disk(DiskRole::Fs, 300, false, &[sector]);
    let f = failing(&s.verdicts("tests/vm/pt-grow-stack"));
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].1.starts_with("lazy-load: sector 300 (args-single bytes 0x2000..0x2200, page 0x402000) was read from disk before any fault"), "{}", f[0].1);
}

#[test]
fn stack_growth_far_below_rsp_is_caught() {
    let mut s = Sim::new();
    s.start();
    let rsp = USER_STACK - 0x1000;
    s.fault(rsp - 0x1000, rsp);
    s.map(rsp - 0x1000, &[0; 4096]);
    s.enter(0x400400);
    let f = failing(&s.verdicts("tests/vm/pt-grow-stack"));
    assert_eq!(f, [("stack-growth", format!("stack-growth: page {:#x} was grown for a fault at {:#x}, 4096 bytes below rsp {rsp:#x} (at most 8 are allowed)", rsp - 0x1000, rsp - 0x1000))]);
}

#[test]
fn a_swap_test_that_never_swaps_fails_swap_used() {
    let mut s = Sim::new();
    s.start();
    let v = s.verdicts("tests/vm/swap-anon");
    assert_eq!(failing(&v), [("swap-used", "swap-used: swap-anon never swaps: 0 sectors written to the swap disk and 0 read back".to_string())]);
}

#[test]
fn swap_round_trips_are_checked_against_the_disk() {
    let mut s = Sim::new();
    s.start();
    let va = 0x1000_0000u64;
    let page: Vec<u8> = (0..4096u32).map(|i| (i * 7) as u8).collect();
    let sectors: Vec<Vec<u8>> = page.chunks(512).map(<[u8]>::to_vec).collect();
    // Slot 2 written, claimed, read back: fine.
    s.disk(DiskRole::Swap, 16, true, &sectors);
    s.claim(Claim::SwapOut { va, slot: 2 });
    s.disk(DiskRole::Swap, 16, false, &sectors);
    s.map(va, &page);
    s.claim(Claim::SwapIn { slot: 2, va });
    assert!(failing(&s.verdicts("tests/vm/swap-anon")).iter().all(|f| f.0 != "swap-content"));

    // A swap-out claim with no sectors written, and a page that comes back different.
    let mut s = Sim::new();
    s.start();
    s.claim(Claim::SwapOut { va, slot: 3 });
    s.disk(DiskRole::Swap, 16, true, &sectors);
    s.claim(Claim::SwapOut { va: va + 0x1000, slot: 2 });
    s.map(va + 0x1000, &[0; 4096]);
    s.claim(Claim::SwapIn { slot: 2, va: va + 0x1000 });
    let f = failing(&s.verdicts("tests/vm/swap-anon"));
    let swap: Vec<_> = f.iter().filter(|x| x.0 == "swap-content").collect();
    assert_eq!(swap.len(), 1, "{f:?}");
    assert_eq!(swap[0].1, "swap-content: page 0x10000000 was claimed swapped out to slot 3, but its sectors were not written to the swap disk (and 1 more)");
}

#[test]
fn a_swapped_out_page_mapped_again_without_a_swap_in_is_lost() {
    let mut s = Sim::new();
    s.start();
    let va = 0x1000_0000u64;
    s.disk(DiskRole::Swap, 40, true, &vec![vec![1u8; 512]; 8]);
    s.claim(Claim::SwapOut { va, slot: 5 });
    s.fault(va, USER_STACK - 64);
    s.map(va, &[0; 4096]);
    s.enter(0x400400);
    let f = failing(&s.verdicts("tests/vm/swap-anon"));
    assert!(f.contains(&("swap-content", "swap-content: page 0x10000000 was swapped out to slot 5 but was mapped again without being swapped in (its data is lost)".into())), "{f:?}");
}

#[test]
fn a_slot_given_two_live_pages_is_caught() {
    let mut s = Sim::new();
    s.start();
    let sectors = vec![vec![1u8; 512]; 8];
    s.disk(DiskRole::Swap, 24, true, &sectors);
    s.claim(Claim::SwapOut { va: 0x1000_0000, slot: 3 });
    s.disk(DiskRole::Swap, 24, true, &sectors);
    s.claim(Claim::SwapOut { va: 0x1000_1000, slot: 3 });
    let f = failing(&s.verdicts("tests/vm/swap-anon"));
    assert!(f.contains(&("swap-content", "swap-content: slot 3 was given page 0x10001000 while it still held page 0x10000000 of the same process (a page would be lost)".into())), "{f:?}");
    // Swapped back in first, the slot is free for another page.
    let mut s = Sim::new();
    s.start();
    s.disk(DiskRole::Swap, 24, true, &sectors);
    s.claim(Claim::SwapOut { va: 0x1000_0000, slot: 3 });
    s.disk(DiskRole::Swap, 24, false, &sectors);
    s.map(0x1000_0000, &[1u8; 4096]);
    s.claim(Claim::SwapIn { slot: 3, va: 0x1000_0000 });
    s.disk(DiskRole::Swap, 24, true, &sectors);
    s.claim(Claim::SwapOut { va: 0x1000_1000, slot: 3 });
    assert!(failing(&s.verdicts("tests/vm/swap-anon")).iter().all(|x| x.0 != "swap-content"));
}

#[test]
fn a_recycled_page_table_starts_afresh() {
    let mut s = Sim::new();
    s.start();
    // The process faults on a page of its data segment and is killed (nothing mapped);
    // a fork child then runs in the same page table, with that page already present,
    // holding its parent's (changed) data: not a load, and not the ELF's bytes.
    s.fault_at(0x402010, USER_STACK - 64, 0x400450);
    s.map(0x402000, &[0xee; 4096]);
    s.enter(0x400500);
    let v = s.verdicts("tests/vm/pt-grow-stack");
    assert!(failing(&v).is_empty(), "{v:#?}");
}

#[test]
fn writing_back_a_clean_mapped_page_is_caught() {
    let mut s = Sim::new();
    s.start();
    let va = 0x1000_0000u64;
    s.syscall(14, [va, 4096, 0, 3, 0, 0]);
    s.enter(0x400400);
    let sector = vec![b'x'; 512];
    s.fault(va, USER_STACK - 64);
    s.disk(DiskRole::Fs, 500, false, std::slice::from_ref(&sector));
    s.map(va, &[b'x'; 4096]);
    s.enter(0x400400);
    s.syscall(15, [va, 0, 0, 0, 0, 0]);
    s.disk(DiskRole::Fs, 500, true, std::slice::from_ref(&sector));
    s.disk(DiskRole::Fs, 900, true, &[vec![b'y'; 512]]);
    let f = failing(&s.verdicts("tests/vm/mmap-read"));
    assert_eq!(f, [("mmap-writeback", "mmap-writeback: sector 500 of the file-system disk was written back with the bytes it already held (a clean page written back?) (and 1 more)".to_string())]);
}

#[test]
fn leaked_frames_and_wrong_phys_answers_are_caught() {
    let mut s = Sim::new();
    s.claim(Claim::Frames { in_use: 3, swap_free: 64 });
    s.start();
    let entry_page = s.exe.entry & !0xfff;
    s.cpu(CpuEvent::SoftwareInterrupt { vector: 0x42, rip: 0x400400, rax: entry_page + 8 });
    s.cpu(CpuEvent::UserEntry { rip: 0x400402, rsp: USER_STACK - 64, rax: 0x1234_5008 });
    s.claim(Claim::Frames { in_use: 4, swap_free: 64 });
    s.cpu(CpuEvent::Cr3Load { value: 0x20_0000 });
    let (i, m) = (s.icount, std::mem::replace(&mut s.mem, PhysMemory::new(4 << 20).unwrap()));
    s.w.event(i, Event::PowerOff, Some(&m));
    let v = s.verdicts("tests/vm/lazy-anon");
    let f = failing(&v);
    assert_eq!(f.iter().map(|x| x.0).collect::<Vec<_>>(), ["frames", "phys-addr"], "{f:?}");
    assert_eq!(f[0].1, "frames: 4 user frames in use at power-off, 3 before the first process ran (1 not returned)");
    assert!(f[1].1.starts_with(&format!("phys-addr: int 0x42 said user address {:#x} is at 0x12345008, but the page tables say 0x", entry_page + 8)), "{}", f[1].1);
}

#[test]
fn claims_checks_are_skipped_for_a_kernel_that_makes_none() {
    let mut s = Sim::new();
    s.enter(s.exe.entry);
    s.fault_at(s.exe.entry, USER_STACK - 64, s.exe.entry);
    let page = s.exe.entry & !0xfff;
    let content = s.elf_page(page);
    s.map(page, &content);
    s.enter(s.exe.entry);
    let v = s.verdicts("tests/vm/pt-grow-stack");
    assert!(failing(&v).is_empty(), "{v:#?}");
    assert_eq!(v["lazy-claims"], (CheckVerdict::Skipped, "skipped: the kernel made no claims on the claims port (docs/claims.md)".into()));
    assert_eq!(v["frames"], (CheckVerdict::Skipped, "skipped: the run did not power off".into()));
}
