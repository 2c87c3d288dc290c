//! Pintos' pseudo-random generator (`lib/random.c`: `random_init`, `random_bytes`,
//! `random_ulong`), which the file-system tests use for file contents, random block
//! sizes and shuffles. It is the RC4 keystream keyed with the four bytes of the seed
//! (little-endian, as the seed sits in memory), so a parent and a child that seed alike
//! produce the same bytes, and the data match what Pintos' own C programs write.
//!
//! Pintos keeps one global generator that seeds itself with 0 on first use; here the
//! state is a value the program owns ([`Random::default`] is that seed-0 generator).

use crate::arc4::Arc4;

/// One generator stream.
#[derive(Clone)]
pub struct Random {
    rc4: Arc4,
}

impl Random {
    /// `random_init(seed)`. Pintos passes the seed as `unsigned`, so `random_init(-1)`
    /// is `Random::new(u32::MAX)`.
    pub fn new(seed: u32) -> Random {
        Random { rc4: Arc4::new(&seed.to_le_bytes()) }
    }

    /// `random_bytes`: fills `buf` with the next bytes of the stream.
    pub fn bytes(&mut self, buf: &mut [u8]) {
        for b in buf {
            *b = self.rc4.next_byte();
        }
    }

    /// `random_ulong`: the next eight bytes as a little-endian u64 (`unsigned long` on
    /// x86-64).
    pub fn ulong(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.bytes(&mut b);
        u64::from_le_bytes(b)
    }
}

impl Default for Random {
    /// The generator Pintos uses before any `random_init`: seed 0.
    fn default() -> Random {
        Random::new(0)
    }
}

#[cfg(test)]
mod tests {
    use super::Random;
    use crate::arc4::Arc4;

    /// The stream is RC4 with the seed's bytes as the key, and ulong reads it
    /// little-endian.
    #[test]
    fn random_is_rc4_keyed_by_the_seed_bytes() {
        let mut r = Random::new(0x0403_0201);
        let mut ks = [0u8; 16];
        Arc4::new(&[1, 2, 3, 4]).crypt(&mut ks);
        let mut got = [0u8; 8];
        r.bytes(&mut got);
        assert_eq!(got, ks[..8]);
        assert_eq!(r.ulong(), u64::from_le_bytes(ks[8..16].try_into().unwrap()));
    }

    /// Values printed by Pintos' `lib/random.c` compiled on the host (x86-64): the
    /// first bytes without `random_init`, after `random_init (57)` (then a
    /// `random_ulong`), and `random_ulong () % 1031 + 1` then `random_ulong ()` after
    /// `random_init (-1)`.
    #[test]
    fn random_matches_pintos_random_c() {
        let mut b = [0u8; 8];
        Random::default().bytes(&mut b);
        assert_eq!(b, [0xde, 0x18, 0x89, 0x41, 0xa3, 0x37, 0x5d, 0x3a]);
        let mut r = Random::new(57);
        r.bytes(&mut b);
        assert_eq!(b, [0x7f, 0xff, 0x07, 0xf1, 0xc2, 0xe7, 0xd3, 0x62]);
        assert_eq!(r.ulong(), 55059134422448865);
        let mut r = Random::new(u32::MAX);
        assert_eq!(r.ulong() % 1031 + 1, 448);
        assert_eq!(r.ulong(), 11303313530403638073);
    }

    /// Two generators seeded alike agree however the bytes are requested; the default is
    /// seed 0.
    #[test]
    fn random_streams_agree_across_chunkings() {
        let mut a = Random::default();
        let mut b = Random::new(0);
        let mut whole = [0u8; 100];
        a.bytes(&mut whole);
        let mut parts = [0u8; 100];
        b.bytes(&mut parts[..37]);
        b.bytes(&mut parts[37..]);
        assert_eq!(whole, parts);
        assert_ne!(Random::new(57).ulong(), Random::new(u32::MAX).ulong());
    }
}
