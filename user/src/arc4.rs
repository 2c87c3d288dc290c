//! ARC4 (RC4), the stream cipher Pintos' tests use to fill buffers with reproducible
//! pseudo-random bytes (`lib/arc4.c`: `arc4_init`, `arc4_crypt`). Pure code: no system
//! calls, unit-tested on the host.

/// The cipher state: a permutation of 0..=255 and two indices.
#[derive(Clone)]
pub struct Arc4 {
    s: [u8; 256],
    i: u8,
    j: u8,
}

impl Arc4 {
    /// The key schedule for `key` (1..=256 bytes).
    pub fn new(key: &[u8]) -> Arc4 {
        assert!(!key.is_empty(), "ARC4 key must not be empty");
        let mut s = [0u8; 256];
        for (k, v) in s.iter_mut().enumerate() {
            *v = k as u8;
        }
        let mut j = 0u8;
        for k in 0..256 {
            j = j.wrapping_add(s[k]).wrapping_add(key[k % key.len()]);
            s.swap(k, j as usize);
        }
        Arc4 { s, i: 0, j: 0 }
    }

    /// The next keystream byte.
    pub fn next_byte(&mut self) -> u8 {
        self.i = self.i.wrapping_add(1);
        self.j = self.j.wrapping_add(self.s[self.i as usize]);
        self.s.swap(self.i as usize, self.j as usize);
        self.s[self.s[self.i as usize].wrapping_add(self.s[self.j as usize]) as usize]
    }

    /// XORs `buf` with the keystream in place (encrypts and decrypts alike).
    pub fn crypt(&mut self, buf: &mut [u8]) {
        for b in buf {
            *b ^= self.next_byte();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Arc4;

    fn encrypt(key: &[u8], plain: &[u8]) -> Vec<u8> {
        let mut buf = plain.to_vec();
        Arc4::new(key).crypt(&mut buf);
        buf
    }

    /// The three classic published RC4 vectors (key, plaintext, ciphertext).
    #[test]
    fn arc4_matches_known_vectors() {
        assert_eq!(encrypt(b"Key", b"Plaintext"), [0xbb, 0xf3, 0x16, 0xe8, 0xd9, 0x40, 0xaf, 0x0a, 0xd3]);
        assert_eq!(encrypt(b"Wiki", b"pedia"), [0x10, 0x21, 0xbf, 0x04, 0x20]);
        assert_eq!(
            encrypt(b"Secret", b"Attack at dawn"),
            [0x45, 0xa0, 0x1f, 0x64, 0x5f, 0xc3, 0x5b, 0x38, 0x35, 0x52, 0x54, 0x4b, 0x9b, 0xf5]
        );
    }

    /// Keystream of the 40-bit key 0102030405 at offset 0 (RFC 6229, first 16 bytes).
    #[test]
    fn arc4_keystream_matches_rfc6229() {
        let ks = encrypt(&[1, 2, 3, 4, 5], &[0; 16]);
        assert_eq!(ks, [0xb2, 0x39, 0x63, 0x05, 0xf0, 0x3d, 0xc0, 0x27, 0xcc, 0xc3, 0x52, 0x4a, 0x0a, 0x11, 0x18, 0xa8]);
    }

    /// Crypting twice with the same key gives back the plaintext, also across calls.
    #[test]
    fn arc4_crypt_is_an_involution_across_chunks() {
        let plain: Vec<u8> = (0..1000u32).map(|x| (x * 7) as u8).collect();
        let mut a = Arc4::new(b"pintos");
        let mut buf = plain.clone();
        a.crypt(&mut buf[..333]);
        a.crypt(&mut buf[333..]);
        assert_ne!(buf, plain);
        Arc4::new(b"pintos").crypt(&mut buf);
        assert_eq!(buf, plain);
    }
}
