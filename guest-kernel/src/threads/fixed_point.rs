//! 17.14 fixed-point numbers for the 4.4BSD scheduler (`load_avg`, `recent_cpu`): a 32-bit
//! signed value with 14 fraction bits; products and quotients go through 64 bits.

const F: i64 = 1 << 14;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Fixed(i32);

impl Fixed {
    pub const ZERO: Fixed = Fixed(0);

    pub const fn from_int(n: i32) -> Fixed {
        Fixed((n as i64 * F) as i32)
    }

    /// Rounds toward zero.
    pub fn trunc(self) -> i32 {
        (self.0 as i64 / F) as i32
    }

    /// Rounds to nearest (halves away from zero).
    pub fn round(self) -> i32 {
        let x = self.0 as i64;
        (if x >= 0 { (x + F / 2) / F } else { (x - F / 2) / F }) as i32
    }

    pub fn add(self, o: Fixed) -> Fixed {
        Fixed(self.0 + o.0)
    }

    pub fn add_int(self, n: i32) -> Fixed {
        Fixed(self.0 + n * F as i32)
    }

    pub fn mul(self, o: Fixed) -> Fixed {
        Fixed((self.0 as i64 * o.0 as i64 / F) as i32)
    }

    pub fn mul_int(self, n: i32) -> Fixed {
        Fixed(self.0 * n)
    }

    pub fn div(self, o: Fixed) -> Fixed {
        Fixed((self.0 as i64 * F / o.0 as i64) as i32)
    }

    pub fn div_int(self, n: i32) -> Fixed {
        Fixed(self.0 / n)
    }
}
