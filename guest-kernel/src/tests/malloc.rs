//! Exercises the page pools and the heap: small blocks of every size class are distinct,
//! aligned and reused after free; a multi-page block comes back to the kernel pool, and
//! so do the slabs of small blocks once all their blocks are freed.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::threads::palloc;

pub fn test_malloc() {
    let (kernel, user) = palloc::free_counts();
    msg!("free pages: kernel pool {kernel}, user pool {user}");
    assert!(kernel > 0 && user > 0);
    let heap = crate::threads::malloc::heap_stats();

    let mut blocks: Vec<Box<[u8]>> = Vec::new();
    for i in 0..200usize {
        let size = 1 + (i * 37) % 2000;
        let b = alloc::vec![i as u8; size].into_boxed_slice();
        blocks.push(b);
    }
    for (i, b) in blocks.iter().enumerate() {
        assert!(b.iter().all(|&x| x == i as u8), "block {i} was overwritten");
    }
    let aligned = Box::new(Aligned([7; 64]));
    assert_eq!(&*aligned as *const Aligned as usize % 256, 0);
    assert_eq!(aligned.0[63], 7);
    drop(blocks);

    let before = palloc::free_counts().0;
    let big = alloc::vec![1u64; 3 * 4096];
    assert!(big.iter().all(|&x| x == 1));
    assert!(palloc::free_counts().0 < before);
    drop(big);
    assert_eq!(palloc::free_counts().0, before, "pages of a big block not returned");

    let page = palloc::get_page(palloc::Pool::User, true).expect("a user page");
    palloc::free_page(page);

    drop(aligned);
    assert_eq!(palloc::free_counts(), (kernel, user), "heap pages not returned");
    assert_eq!(crate::threads::malloc::heap_stats(), heap, "heap blocks still in use");
}

#[repr(align(256))]
struct Aligned([u8; 64]);
