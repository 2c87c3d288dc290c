// The pieces the page-merge tests share: random data with its value histogram, the
// merge of the sorted chunks, and the check of the merged result against the histogram.

use user::arc4::Arc4;
use user::fmt::{Out, Sink};
use user::{fail, msg};

/// Fills `data` with the ARC4 stream of "foobar" (XORed into the zeros it holds) and
/// counts how often each byte value occurs.
pub fn init(data: &mut [u8], histogram: &mut [usize; 256]) {
    msg!("init");
    Arc4::new(b"foobar").crypt(data);
    for &b in data.iter() {
        if let Some(n) = histogram.get_mut(b as usize) {
            *n += 1;
        }
    }
}

/// At most this many sorted runs are merged.
const MAX_RUNS: usize = 16;

/// Merges the sorted runs of `chunk_size` bytes in `runs_data` into `out`, taking the
/// smallest head of the remaining runs each time.
pub fn merge(runs_data: &[u8], out: &mut [u8], chunk_size: usize) {
    msg!("merge");
    let mut runs: [&[u8]; MAX_RUNS] = [&[]; MAX_RUNS];
    for (slot, chunk) in runs.iter_mut().zip(runs_data.chunks(chunk_size)) {
        *slot = chunk;
    }
    for dst in out.iter_mut() {
        let mut best: Option<(usize, u8)> = None;
        for (k, run) in runs.iter().enumerate() {
            if let Some(&v) = run.first() {
                if best.is_none_or(|(_, b)| v < b) {
                    best = Some((k, v));
                }
            }
        }
        let Some((k, v)) = best else { break };
        *dst = v;
        if let Some(run) = runs.get_mut(k) {
            *run = run.get(1..).unwrap_or(&[]);
        }
    }
}

/// A count printed with thousands separators (C's `%'zu`): 1032192 as "1,032,192".
struct Grouped(usize);

impl Out for Grouped {
    fn out(&self, s: &mut dyn Sink) {
        let mut digits = [0u8; 32];
        let mut n = self.0;
        let mut len = 0;
        loop {
            if let Some(d) = digits.get_mut(len) {
                *d = b'0' + (n % 10) as u8;
            }
            len += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        for i in (0..len).rev() {
            if let Some(d) = digits.get(i) {
                s.put(core::slice::from_ref(d));
            }
            if i != 0 && i % 3 == 0 {
                s.put(b",");
            }
        }
    }
}

/// `sorted` must hold, in order, each byte value as many times as `histogram` says.
pub fn verify(sorted: &[u8], histogram: &[usize; 256]) {
    msg!("verify");
    let mut idx = 0;
    for (value, &count) in histogram.iter().enumerate() {
        for _ in 0..count {
            match sorted.get(idx) {
                Some(&b) if b as usize == value => {}
                other => fail!("bad value {} in byte {}", other.copied().unwrap_or(0), idx),
            }
            idx += 1;
        }
    }
    msg!("success, buf_idx={}", Grouped(idx));
}
