//! The claims port (`docs/claims.md`): a kernel's own account of its virtual memory,
//! decoded from 32-bit `out`s to [`CLAIM_PORT`]. The grader checks each claim against what
//! the hardware saw; nothing here trusts one.

/// The paravirtual claims port.
pub const CLAIM_PORT: u16 = 0x6f0;
/// Upper half of a header dword ("PV").
pub const HEADER_MAGIC: u32 = 0x5056_0000;

/// One record from the claims port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Claim {
    /// A page was loaded lazily at `va`: `bytes` bytes from file offset `offset` (`None`:
    /// all zeros).
    LazyLoad { va: u64, offset: Option<u64>, bytes: u64 },
    SwapOut { va: u64, slot: u64 },
    SwapIn { slot: u64, va: u64 },
    StackGrowth { va: u64 },
    CowCopy { va: u64 },
    Evict { va: u64, to_disk: bool },
    /// The kernel's count of user frames in use and free swap slots.
    Frames { in_use: u64, swap_free: u64 },
    /// The records that follow are about address space `cr3` (until the next one, or the
    /// end of the kernel's current operation: each record's own CR3 is used otherwise).
    AddressSpace { cr3: u64 },
}

impl Claim {
    /// The record's kind number and argument count.
    fn arity(kind: u8) -> Option<usize> {
        Some(match kind {
            1 => 3,
            2 | 3 | 6 | 7 => 2,
            4 | 5 | 8 => 1,
            _ => return None,
        })
    }

    fn decode(kind: u8, a: &[u64]) -> Claim {
        match kind {
            1 => Claim::LazyLoad { va: a[0], offset: (a[1] != u64::MAX).then_some(a[1]), bytes: a[2] },
            2 => Claim::SwapOut { va: a[0], slot: a[1] },
            3 => Claim::SwapIn { slot: a[0], va: a[1] },
            4 => Claim::StackGrowth { va: a[0] },
            5 => Claim::CowCopy { va: a[0] },
            6 => Claim::Evict { va: a[0], to_disk: a[1] != 0 },
            7 => Claim::Frames { in_use: a[0], swap_free: a[1] },
            _ => Claim::AddressSpace { cr3: a[0] },
        }
    }

    /// The name used in docs/claims.md and in reports.
    pub fn name(&self) -> &'static str {
        match self {
            Claim::LazyLoad { .. } => "lazy-load",
            Claim::SwapOut { .. } => "swap-out",
            Claim::SwapIn { .. } => "swap-in",
            Claim::StackGrowth { .. } => "stack-growth",
            Claim::CowCopy { .. } => "cow-copy",
            Claim::Evict { .. } => "evict",
            Claim::Frames { .. } => "frames",
            Claim::AddressSpace { .. } => "address-space",
        }
    }
}

/// Reassembles records from the port's dwords.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct ClaimDecoder {
    /// The record being read: kind, arguments expected, dwords so far.
    current: Option<(u8, usize, Vec<u32>)>,
    /// Dwords that arrived where a header was expected and were not one.
    pub malformed: u64,
}

impl ClaimDecoder {
    /// Feeds one dword; returns the record it completes.
    pub fn push(&mut self, dword: u32) -> Option<Claim> {
        match &mut self.current {
            None => {
                let kind = dword as u8;
                match Claim::arity(kind) {
                    Some(n) if dword & 0xffff_ff00 == HEADER_MAGIC => self.current = Some((kind, n, Vec::with_capacity(2 * n))),
                    _ => self.malformed += 1,
                }
                None
            }
            Some((kind, n, words)) => {
                words.push(dword);
                if words.len() < 2 * *n {
                    return None;
                }
                let args: Vec<u64> = words.chunks(2).map(|w| w[0] as u64 | (w[1] as u64) << 32).collect();
                let claim = Claim::decode(*kind, &args);
                self.current = None;
                Some(claim)
            }
        }
    }

    /// Whether a record has started and not finished (its header fixes its CR3).
    pub fn in_record(&self) -> bool {
        self.current.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(kind: u8, args: &[u64]) -> Vec<u32> {
        let mut w = vec![HEADER_MAGIC | kind as u32];
        for a in args {
            w.push(*a as u32);
            w.push((*a >> 32) as u32);
        }
        w
    }

    fn feed(d: &mut ClaimDecoder, w: &[u32]) -> Vec<Claim> {
        w.iter().filter_map(|&x| d.push(x)).collect()
    }

    #[test]
    fn every_kind_decodes() {
        let mut d = ClaimDecoder::default();
        let mut w = words(1, &[0x401000, 0x1000, 0x800]);
        w.extend(words(1, &[0x40_3000, u64::MAX, 0]));
        w.extend(words(2, &[0x4747_f000, 3]));
        w.extend(words(3, &[3, 0x4747_f000]));
        w.extend(words(4, &[0x4747_e000]));
        w.extend(words(5, &[0x402000]));
        w.extend(words(6, &[0x402000, 1]));
        w.extend(words(7, &[12, 1000]));
        w.extend(words(8, &[0x1_2345_6000]));
        assert_eq!(
            feed(&mut d, &w),
            [
                Claim::LazyLoad { va: 0x401000, offset: Some(0x1000), bytes: 0x800 },
                Claim::LazyLoad { va: 0x403000, offset: None, bytes: 0 },
                Claim::SwapOut { va: 0x4747_f000, slot: 3 },
                Claim::SwapIn { slot: 3, va: 0x4747_f000 },
                Claim::StackGrowth { va: 0x4747_e000 },
                Claim::CowCopy { va: 0x402000 },
                Claim::Evict { va: 0x402000, to_disk: true },
                Claim::Frames { in_use: 12, swap_free: 1000 },
                Claim::AddressSpace { cr3: 0x1_2345_6000 },
            ]
        );
        assert_eq!(d.malformed, 0);
    }

    #[test]
    fn garbage_is_dropped_until_the_next_header() {
        let mut d = ClaimDecoder::default();
        let mut w = vec![0xdead_beef, HEADER_MAGIC | 99, 7];
        w.extend(words(4, &[0x1000]));
        assert_eq!(feed(&mut d, &w), [Claim::StackGrowth { va: 0x1000 }]);
        assert_eq!(d.malformed, 3);
        assert!(!d.in_record());
    }
}
