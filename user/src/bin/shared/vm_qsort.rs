// The quicksort of bytes the child-qsort programs use (Pintos' tests/vm/qsort.c does the
// same job): a random pivot from Pintos' generator, a partition into the bytes below
// the pivot and the rest, recursion into the smaller part and a loop over the larger.

use user::random::Random;

fn sorted(a: &[u8]) -> bool {
    a.windows(2).all(|w| matches!(w, [x, y] if x <= y))
}

fn swap(a: &mut [u8], i: usize, j: usize) {
    if let (Some(&x), Some(&y)) = (a.get(i), a.get(j)) {
        if let Some(s) = a.get_mut(i) {
            *s = y;
        }
        if let Some(s) = a.get_mut(j) {
            *s = x;
        }
    }
}

/// Reorders `a` into the bytes `< pivot` followed by the bytes `>= pivot`; returns how
/// many are below.
fn partition(a: &mut [u8], pivot: u8) -> usize {
    let (mut lo, mut hi) = (0, a.len());
    loop {
        while lo < hi && a.get(lo).is_some_and(|&b| b < pivot) {
            lo += 1;
        }
        while lo < hi && a.get(hi - 1).is_some_and(|&b| b >= pivot) {
            hi -= 1;
        }
        if lo >= hi {
            return lo;
        }
        swap(a, lo, hi - 1);
    }
}

/// Sorts `a` into nondecreasing order.
pub fn qsort_bytes(mut a: &mut [u8], rng: &mut Random) {
    while !sorted(a) {
        let Some(&pivot) = a.get((rng.ulong() % a.len() as u64) as usize) else { return };
        let below = partition(a, pivot);
        let (left, right) = a.split_at_mut(below);
        if left.len() <= right.len() {
            qsort_bytes(left, rng);
            a = right;
        } else {
            qsort_bytes(right, rng);
            a = left;
        }
    }
}
