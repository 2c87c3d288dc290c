//! The ELF64 loader and the initial user stack.
//!
//! `load` checks the executable's header (ELF64, little-endian, version 1, EXEC, x86-64,
//! 56-byte program headers) and loads every PT_LOAD segment into fresh zeroed user pages
//! of the process's page table. Segments are copied byte for byte through the table, so
//! two segments may share a page (current binutils put a read-only header segment and
//! .text, or .data and .bss of neighbours, in one page): the page is allocated once and
//! becomes writable if any segment on it is. The bss is the zeroed rest of the pages.
//! PT_DYNAMIC/PT_INTERP/PT_SHLIB are refused; other headers are ignored.

use alloc::vec;
use alloc::vec::Vec;

use crate::arch::paging::{PageTable, USER_LIMIT};
use crate::filesys::file::File;
use crate::threads::palloc::{self, Pool, PGSIZE};

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

/// Allocates and maps every page of [start, end) not yet mapped; makes them writable if
/// `writable`.
fn map_range(pt: &mut PageTable, start: u64, end: u64, writable: bool) -> Result<(), &'static str> {
    let mut va = start & !(PGSIZE - 1);
    while va < end {
        if pt.translate(va).is_none() {
            let frame = palloc::get_page(Pool::User, true).ok_or("out of user memory")?;
            if !pt.map(va, frame, writable) {
                palloc::free_page(frame);
                return Err("cannot map page");
            }
        } else if writable {
            pt.set_writable(va);
        }
        va += PGSIZE;
    }
    Ok(())
}

/// Loads executable `file` into `pt`; returns its entry point.
pub fn load(pt: &mut PageTable, file: &File) -> Result<u64, &'static str> {
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
        map_range(pt, vaddr, end, flags & PF_W != 0)?;
        let mut buf = vec![0u8; PGSIZE as usize];
        let mut done = 0;
        while done < filesz {
            let n = (filesz - done).min(PGSIZE) as usize;
            if file.read_at(&mut buf[..n], (offset + done) as u32) != n {
                return Err("short read");
            }
            pt.copy_out(vaddr + done, &buf[..n], true).map_err(|_| "segment not mapped")?;
            done += n as u64;
        }
        loaded = true;
    }
    if !loaded || entry >= USER_LIMIT || pt.translate(entry).is_none() {
        return Err("bad entry point");
    }
    Ok(entry)
}

/// Maps one stack page below USER_STACK and lays out the arguments as Pintos-KAIST
/// does: the strings (last argument highest), padding to 8 bytes, argv[argc] = NULL,
/// argv[argc-1]..argv[0], and a fake return address 0. Returns (rsp, argv).
pub fn setup_stack(pt: &mut PageTable, args: &[&str]) -> Result<(u64, u64), &'static str> {
    map_range(pt, USER_STACK - PGSIZE, USER_STACK, true)?;
    let bottom = USER_STACK - PGSIZE;
    let mut sp = USER_STACK;
    let mut addrs: Vec<u64> = Vec::new();
    for a in args.iter().rev() {
        sp = sp.checked_sub(a.len() as u64 + 1).filter(|&s| s >= bottom).ok_or("arguments too long")?;
        let mut s = Vec::from(a.as_bytes());
        s.push(0);
        pt.copy_out(sp, &s, false).map_err(|_| "stack")?;
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
        pt.copy_out(sp, &w.to_le_bytes(), false).map_err(|_| "stack")?;
    }
    let argv = sp;
    sp -= 8;
    pt.copy_out(sp, &0u64.to_le_bytes(), false).map_err(|_| "stack")?;
    Ok((sp, argv))
}
