//! Pages that have never been touched (Pintos-KAIST's `uninit`): what to fill them with
//! on their first fault, after which they are anonymous pages (`anon`).

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::claims::{self, Space};
use crate::arch::io::with_frame;
use crate::filesys::file::File;

/// A run of an executable's bytes that lands on a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    /// Where the bytes are in the file.
    pub file_offset: u32,
    /// Where they go in the page.
    pub page_offset: u16,
    pub len: u16,
}

/// How an untouched page is filled.
#[derive(Clone)]
pub enum Uninit {
    /// All zeros: the stack, and bss past every segment's file bytes.
    Zero,
    /// Part of an executable: the pieces of one or more segments (two segments may share
    /// a page), zeros elsewhere. Each page reads its own segment offsets, never the
    /// file's position.
    Segment { file: Arc<File>, pieces: Vec<Piece> },
}

impl Uninit {
    /// Fills the page at kernel address `kva` (may sleep on the file system); false if
    /// the file is shorter than the segment said.
    pub fn initialize(&self, kva: u64) -> bool {
        with_frame(kva, |page| {
            page.fill(0);
            match self {
                Uninit::Zero => true,
                Uninit::Segment { file, pieces } => pieces.iter().all(|p| {
                    let at = p.page_offset as usize;
                    file.read_at(&mut page[at..at + p.len as usize], p.file_offset) == p.len as usize
                }),
            }
        })
    }

    /// Writes the `lazy-load` claims for this page, now loaded and mapped at `va` of
    /// `space`: offset `claims::ZERO_PAGE` for a page of zeros; otherwise one record per
    /// piece, at the address where the piece starts.
    pub fn claim_loaded(&self, space: Space, va: u64) {
        match self {
            Uninit::Zero => claims::lazy_load(space, va, claims::ZERO_PAGE, 0),
            Uninit::Segment { pieces, .. } => {
                for p in pieces {
                    claims::lazy_load(space, va + p.page_offset as u64, p.file_offset as u64, p.len as u64);
                }
            }
        }
    }

    /// Adds `piece` of `file` to a page that already holds another segment's piece.
    pub fn add_piece(&mut self, file: &Arc<File>, piece: Piece) {
        match self {
            Uninit::Zero => *self = Uninit::Segment { file: file.clone(), pieces: alloc::vec![piece] },
            Uninit::Segment { pieces, .. } => pieces.push(piece),
        }
    }
}
