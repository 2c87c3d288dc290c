//! The POSIX `cksum` CRC (polynomial 0x04c11db7, MSB first, the length appended
//! little-end first, result inverted), as Pintos' tests compute it (`tests/cksum.c`) and as
//! the host's `cksum` command prints it. Pure code: no system calls, unit-tested on the
//! host.

const POLY: u32 = 0x04c1_1db7;

/// CRC of each byte value, built at compile time.
static TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = (i as u32) << 24;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 0x8000_0000 != 0 { (c << 1) ^ POLY } else { c << 1 };
            bit += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// A running checksum, for data that arrives in pieces.
#[derive(Clone, Copy, Default)]
pub struct Cksum {
    crc: u32,
    len: u64,
}

impl Cksum {
    pub const fn new() -> Cksum {
        Cksum { crc: 0, len: 0 }
    }

    fn add_byte(crc: u32, byte: u8) -> u32 {
        (crc << 8) ^ TABLE[((crc >> 24) as u8 ^ byte) as usize]
    }

    pub fn update(&mut self, data: &[u8]) {
        for &b in data {
            self.crc = Self::add_byte(self.crc, b);
        }
        self.len += data.len() as u64;
    }

    /// The checksum of everything passed to [`Cksum::update`].
    pub fn finish(&self) -> u32 {
        let mut crc = self.crc;
        let mut n = self.len;
        while n != 0 {
            crc = Self::add_byte(crc, n as u8);
            n >>= 8;
        }
        !crc
    }
}

/// The `cksum` of `data`.
pub fn cksum(data: &[u8]) -> u32 {
    let mut c = Cksum::new();
    c.update(data);
    c.finish()
}

#[cfg(test)]
mod tests {
    use super::{cksum, Cksum};

    /// Values printed by GNU coreutils `cksum` on the host
    /// (`printf 'X' | cksum`), hard-coded.
    #[test]
    fn cksum_matches_host_cksum_command() {
        for (data, want) in VECTORS {
            assert_eq!(cksum(data), *want, "cksum of {:?}", String::from_utf8_lossy(data));
        }
    }

    /// Feeding the data in pieces gives the same result as all at once.
    #[test]
    fn cksum_incremental_equals_one_shot() {
        let data: Vec<u8> = (0..5000u32).map(|x| (x * 31 + 7) as u8).collect();
        let mut c = Cksum::new();
        for chunk in data.chunks(17) {
            c.update(chunk);
        }
        assert_eq!(c.finish(), cksum(&data));
    }

    const ALL_BYTES: [u8; 256] = {
        let mut a = [0u8; 256];
        let mut i = 0;
        while i < 256 {
            a[i] = i as u8;
            i += 1;
        }
        a
    };

    const VECTORS: &[(&[u8], u32)] = &[
        (b"", 4294967295),
        (b"a", 1220704766),
        (b"123456789", 930766865),
        (b"The quick brown fox jumps over the lazy dog", 2074844392),
        // python3 -c 'sys.stdout.buffer.write(bytes(range(256)))' | cksum
        (&ALL_BYTES, 1313719201),
        // 70000 zero bytes: the length takes three bytes.
        (&[0; 70000], 1774371287),
    ];
}
