//! The ELF64 loader and the initial user stack.
//!
//! `load` checks the executable's header (ELF64, little-endian, version 1, EXEC, x86-64,
//! 56-byte program headers) and records every page of every PT_LOAD segment in the
//! process's supplemental page table as an untouched page (`vm::uninit`): nothing is read
//! until the page is first touched, and then each page reads its own part of the file at
//! its segment's offset. Two segments may share a page (current binutils put a read-only
//! header segment and .text, or .data and .bss of neighbours, in one page): the page then
//! holds both pieces and is writable if either segment is. The bss is the zero rest.
//! PT_DYNAMIC/PT_INTERP/PT_SHLIB are refused; other headers are ignored.
//!
//! `setup_stack` gives the stack's first page a frame at once and writes the arguments
//! into it; the rest of the stack grows on faults (`vm`).

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use crate::arch::paging::{PageTable, USER_LIMIT};
use crate::filesys::file::File;
use crate::threads::palloc::PGSIZE;
use crate::threads::thread;
use crate::vm::anon::Anon;
use crate::vm::uninit::{Piece, Uninit};
use crate::vm::{self, Kind, Spt};

/// Top of the user stack (Pintos-KAIST `USER_STACK`).
pub const USER_STACK: u64 = 0x4748_0000;

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const PT_SHLIB: u32 = 5;
const PF_W: u32 = 2;

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}
fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}

/// Records the pages of a segment: [vaddr, vaddr+memsz) with `filesz` bytes from
/// `offset` of `file`.
fn add_segment(spt: &mut Spt, file: &Arc<File>, vaddr: u64, offset: u64, filesz: u64, memsz: u64, writable: bool) {
    let end = vaddr + memsz;
    let mut va = vaddr & !(PGSIZE - 1);
    while va < end {
        // The part of this page the segment covers, and of that the part from the file.
        let from = va.max(vaddr);
        let to = (va + PGSIZE).min(end);
        let file_to = to.min(vaddr + filesz);
        let piece = (from < file_to).then(|| Piece { file_offset: (offset + (from - vaddr)) as u32, page_offset: (from - va) as u16, len: (file_to - from) as u16 });
        #[cfg(feature = "broken")]
        let piece = piece.or_else(|| vm::broken::bss_piece(file, offset + (from - vaddr), (from - va) as u16));
        if !spt.contains(va) {
            let init = match piece {
                Some(p) => Uninit::Segment { file: file.clone(), pieces: vec![p] },
                None => Uninit::Zero,
            };
            spt.add(va, writable, init);
        } else {
            let page = spt.get_mut(va).unwrap();
            page.writable |= writable;
            if let (Some(p), Kind::Uninit(u)) = (piece, &mut page.kind) {
                u.add_piece(file, p);
            }
        }
        va += PGSIZE;
    }
}

/// Records executable `file` in `spt` (nothing is read but the headers); returns its
/// entry point.
pub fn load(spt: &mut Spt, file: &Arc<File>) -> Result<u64, &'static str> {
    let len = file.length() as u64;
    let mut eh = [0u8; 64];
    if file.read_at(&mut eh, 0) != 64 {
        return Err("file too short");
    }
    if eh[0..4] != *b"\x7fELF" || eh[4] != 2 || eh[5] != 1 || eh[6] != 1 {
        return Err("not an ELF64 little-endian file");
    }
    if u16_at(&eh, 16) != 2 || u16_at(&eh, 18) != 0x3e || u32_at(&eh, 20) != 1 {
        return Err("not an x86-64 executable");
    }
    let entry = u64_at(&eh, 24);
    let phoff = u64_at(&eh, 32);
    let (phentsize, phnum) = (u16_at(&eh, 54), u16_at(&eh, 56) as u64);
    if phentsize != 56 || phnum > 1024 || phoff.checked_add(phnum * 56).is_none_or(|e| e > len) {
        return Err("bad program headers");
    }
    let mut ph = vec![0u8; (phnum * 56) as usize];
    if file.read_at(&mut ph, phoff as u32) != ph.len() {
        return Err("cannot read program headers");
    }
    // Every page of every segment gets a table entry: claim their heap first, so that a
    // file with a huge segment is refused instead of exhausting the kernel's heap.
    let mut pages = 0u64;
    for h in ph.chunks(56) {
        if u32_at(h, 0) == PT_LOAD {
            let (vaddr, memsz) = (u64_at(h, 16), u64_at(h, 40));
            let end = vaddr.checked_add(memsz).filter(|&e| e <= USER_LIMIT).ok_or("bad segment")?;
            pages += end.div_ceil(PGSIZE) - vaddr / PGSIZE;
        }
    }
    let _claim = vm::claim_entries(pages).ok_or("out of memory")?;
    let mut loaded = false;
    for h in ph.chunks(56) {
        let (ty, flags) = (u32_at(h, 0), u32_at(h, 4));
        let (offset, vaddr, filesz, memsz) = (u64_at(h, 8), u64_at(h, 16), u64_at(h, 32), u64_at(h, 40));
        match ty {
            PT_DYNAMIC | PT_INTERP | PT_SHLIB => return Err("dynamic executables are not supported"),
            PT_LOAD => {}
            _ => continue,
        }
        if memsz == 0 {
            continue;
        }
        let end = vaddr.checked_add(memsz).ok_or("segment wraps")?;
        if filesz > memsz || vaddr < PGSIZE || end > USER_LIMIT || offset.checked_add(filesz).is_none_or(|e| e > len) {
            return Err("bad segment");
        }
        if offset > u32::MAX as u64 {
            return Err("bad segment");
        }
        add_segment(spt, file, vaddr, offset, filesz, memsz, flags & PF_W != 0);
        loaded = true;
    }
    if !loaded || entry >= USER_LIMIT || !spt.contains(entry & !(PGSIZE - 1)) {
        return Err("bad entry point");
    }
    Ok(entry)
}

/// Gives the stack page below USER_STACK a frame, maps it in `pt` and lays out the
/// arguments as Pintos-KAIST does: the strings (last argument highest), padding to 8
/// bytes, argv[argc] = NULL, argv[argc-1]..argv[0], and a fake return address 0. Returns
/// (rsp, argv, the stack frame, pinned until the process is installed).
pub fn setup_stack(spt: &mut Spt, pt: &mut PageTable, args: &[&str]) -> Result<(u64, u64, u64), &'static str> {
    let bottom = USER_STACK - PGSIZE;
    // The layout, built in a kernel buffer standing for the page.
    let mut page = vec![0u8; PGSIZE as usize];
    let mut sp = USER_STACK;
    let mut addrs: Vec<u64> = Vec::new();
    for a in args.iter().rev() {
        sp = sp.checked_sub(a.len() as u64 + 1).filter(|&s| s >= bottom).ok_or("arguments too long")?;
        let at = (sp - bottom) as usize;
        page[at..at + a.len()].copy_from_slice(a.as_bytes());
        addrs.push(sp);
    }
    sp &= !7;
    let mut words: Vec<u64> = vec![0];
    words.extend(addrs.iter().copied());
    // words (highest first): NULL, argv[argc-1], ..., argv[0]; then the return address.
    let need = (words.len() as u64 + 1) * 8;
    if sp - bottom < need {
        return Err("arguments too long");
    }
    for w in words {
        sp -= 8;
        let at = (sp - bottom) as usize;
        page[at..at + 8].copy_from_slice(&w.to_le_bytes());
    }
    let argv = sp;
    sp -= 8;
    let kva = {
        let _vm = vm::VmGuard::lock();
        vm::frame_for((thread::thread_tid(), bottom)).ok_or("out of memory")?
    };
    crate::arch::io::with_frame(kva, |frame| frame.copy_from_slice(&page));
    if !pt.map(bottom, kva, true) {
        vm::frame::release(kva, (thread::thread_tid(), bottom));
        return Err("out of memory");
    }
    spt.add(bottom, true, Uninit::Zero);
    let p = spt.get_mut(bottom).unwrap();
    p.frame = Some(kva);
    p.kind = Kind::Anon(Anon::default());
    Ok((sp, argv, kva))
}
