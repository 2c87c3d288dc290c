//! What each page of an executable must hold once loaded, from its ELF program headers
//! (read with goblin): the reference the file-offset and lazy-load checks compare the
//! hardware's view against.

use std::collections::{BTreeMap, HashMap};

use emulator::observe::hash64;
use goblin::elf::program_header::{PF_W, PT_LOAD};
use goblin::elf::Elf;

pub const PAGE: u64 = 4096;
pub const SECTOR: u64 = 512;

/// One piece of a page: bytes `start..end` of the page come from the file at `file`
/// (`None`: zeros, the part of a segment past its file size).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    pub start: u64,
    pub end: u64,
    pub file: Option<u64>,
}

/// A page of a loadable segment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageModel {
    pub pieces: Vec<Piece>,
    /// Writable in the ELF (data, bss): its bytes may legitimately change once the
    /// process runs.
    pub writable: bool,
}

impl PageModel {
    /// The file bytes this page is loaded from: (lowest offset, end).
    pub fn file_range(&self) -> Option<(u64, u64)> {
        let lo = self.pieces.iter().filter_map(|p| p.file).min()?;
        let hi = self.pieces.iter().filter_map(|p| p.file.map(|f| f + p.end - p.start)).max()?;
        Some((lo, hi))
    }

    /// The first byte of the page where `page` differs from what the ELF puts there.
    pub fn mismatch(&self, file: &[u8], page: &[u8]) -> Option<u64> {
        for p in &self.pieces {
            for i in p.start..p.end {
                let want = match p.file {
                    Some(f) => file.get((f + i - p.start) as usize).copied().unwrap_or(0),
                    None => 0,
                };
                if page[i as usize] != want {
                    return Some(i);
                }
            }
        }
        None
    }
}

/// A program the test puts, as the checks see it.
#[derive(Debug)]
pub struct Executable {
    pub name: String,
    pub bytes: Vec<u8>,
    pub entry: u64,
    /// Page-aligned virtual address → what it holds.
    pub pages: BTreeMap<u64, PageModel>,
    /// The ELF header and program headers end here: a loader reads this much at exec.
    pub header_end: u64,
}

impl Executable {
    /// Parses `bytes`; `None` for anything that is not an ELF with loadable segments.
    pub fn parse(name: &str, bytes: Vec<u8>) -> Option<Executable> {
        let elf = Elf::parse(&bytes).ok()?;
        let mut pages: BTreeMap<u64, PageModel> = BTreeMap::new();
        for ph in elf.program_headers.iter().filter(|p| p.p_type == PT_LOAD && p.p_memsz > 0) {
            add_segment(&mut pages, ph.p_vaddr, ph.p_memsz, ph.p_filesz.min(ph.p_memsz), ph.p_offset, ph.p_flags & PF_W != 0)?;
        }
        if pages.is_empty() {
            return None;
        }
        let header_end = elf.header.e_phoff + elf.header.e_phnum as u64 * elf.header.e_phentsize as u64;
        Some(Executable { name: name.to_string(), entry: elf.entry, pages, header_end: header_end.max(elf.header.e_ehsize as u64), bytes })
    }

    /// The page-aligned file offset whose bytes `page` actually holds at `va`, if the
    /// page's file pieces match the file shifted by some whole number of pages (the
    /// classic wrong-offset bug): for a helpful message.
    pub fn actual_offset(&self, va: u64, page: &[u8]) -> Option<u64> {
        let model = self.pages.get(&va)?;
        let first = model.pieces.iter().find(|p| p.file.is_some())?;
        let f = first.file?;
        let len = (first.end - first.start) as usize;
        let got = &page[first.start as usize..first.end as usize];
        let pages = self.bytes.len() as u64 / PAGE + 1;
        (0..pages).map(|k| k * PAGE + (f % PAGE)).find(|&o| o != f && self.bytes.get(o as usize..o as usize + len) == Some(got))
    }
}

/// Adds the pages of one loadable segment (`memsz` bytes at `vaddr`, the first `filesz`
/// from file offset `offset`); `None` if it wraps the address space.
fn add_segment(pages: &mut BTreeMap<u64, PageModel>, vaddr: u64, memsz: u64, filesz: u64, offset: u64, writable: bool) -> Option<()> {
    let end = vaddr.checked_add(memsz)?;
    let file_end = vaddr + filesz;
    let mut va = vaddr & !(PAGE - 1);
    while va < end {
        let (lo, hi) = (vaddr.max(va), end.min(va + PAGE));
        let model = pages.entry(va).or_default();
        model.writable |= writable;
        if lo < file_end.min(hi) {
            model.pieces.push(Piece { start: lo - va, end: file_end.min(hi) - va, file: Some(offset + (lo - vaddr)) });
        }
        if file_end.max(lo) < hi {
            model.pieces.push(Piece { start: file_end.max(lo) - va, end: hi - va, file: None });
        }
        va += PAGE;
    }
    Some(())
}

/// Which executables' file sectors have which content hash: a sector read from the
/// file-system disk with one of these hashes is (most likely) that part of that file.
/// All-zero sectors and sectors that also occur in one of the `data` files (a program
/// may embed the file it checks against) are ambiguous and left out.
pub fn sector_index(exes: &[Executable], data: &[Vec<u8>]) -> HashMap<u64, Vec<(usize, u64)>> {
    let zero = hash64(&[0u8; SECTOR as usize]);
    let mut index: HashMap<u64, Vec<(usize, u64)>> = HashMap::new();
    for (i, e) in exes.iter().enumerate() {
        for (k, chunk) in e.bytes.chunks(SECTOR as usize).enumerate() {
            let mut sector = [0u8; SECTOR as usize];
            sector[..chunk.len()].copy_from_slice(chunk);
            let h = hash64(&sector);
            if h != zero {
                index.entry(h).or_default().push((i, k as u64 * SECTOR));
            }
        }
    }
    for d in data {
        for chunk in d.chunks(SECTOR as usize) {
            let mut sector = [0u8; SECTOR as usize];
            sector[..chunk.len()].copy_from_slice(chunk);
            index.remove(&hash64(&sector));
        }
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_follow_the_segment() {
        // vaddr 0x401f00, file offset 0x1f00, 0x200 bytes in the file, 0x1200 in memory:
        // the first page holds file bytes from 0x1f00 at 0xf00.., the second file bytes
        // then zeros.
        let mut pages = BTreeMap::new();
        add_segment(&mut pages, 0x401f00, 0x1200, 0x200, 0x1f00, true).unwrap();
        assert_eq!(pages[&0x401000].pieces, [Piece { start: 0xf00, end: 0x1000, file: Some(0x1f00) }]);
        assert_eq!(pages[&0x402000].pieces, [Piece { start: 0, end: 0x100, file: Some(0x2000) }, Piece { start: 0x100, end: 0x1000, file: None }]);
        assert_eq!(pages[&0x402000].file_range(), Some((0x2000, 0x2100)));
        assert!(pages[&0x402000].writable);
        let file: Vec<u8> = (0..0x3000u32).map(|i| i as u8).collect();
        let mut page = vec![0u8; 4096];
        page[..0x100].copy_from_slice(&file[0x2000..0x2100]);
        assert_eq!(pages[&0x402000].mismatch(&file, &page), None);
        page[0x200] = 1;
        assert_eq!(pages[&0x402000].mismatch(&file, &page), Some(0x200));
    }

    #[test]
    fn a_real_program_parses() {
        let bytes = std::fs::read(std::path::Path::new(user_programs::USER_DIR).join("args-many")).unwrap();
        let e = Executable::parse("args-many", bytes).unwrap();
        assert!(e.pages.contains_key(&(e.entry & !(PAGE - 1))), "the entry is in a segment");
        assert!(e.pages.keys().all(|&va| va >= 0x400000 && va % PAGE == 0));
        let index = sector_index(std::slice::from_ref(&e), &[]);
        assert!(!index.is_empty());
        // A data file holding the program's first sector makes that sector ambiguous.
        let first = hash64(&e.bytes[..512]);
        assert!(index.contains_key(&first));
        assert!(!sector_index(std::slice::from_ref(&e), &[e.bytes[..512].to_vec()]).contains_key(&first));
        assert!(Executable::parse("junk", b"not an elf".to_vec()).is_none());
    }
}
