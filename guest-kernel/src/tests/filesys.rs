//! File-system tests (run on a disk just formatted with `-f`).
//!
//! `fs-basic`: the single-threaded contract of `filesys` and `File`: create (sizes,
//! bad and taken names, a full directory), open, read/write/seek/tell/length, writes
//! stop at the end, shared inodes, deny_write, and removal while open (still readable,
//! sectors freed at the last close).
//!
//! `fs-threads`: threads working on the file system at once (the global lock): each of
//! four threads writes its own file while all of them also read one shared file, then
//! every file is checked.

use alloc::format;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use crate::filesys::{self, filesys_create, filesys_free_sectors, filesys_open, filesys_remove};
use crate::threads::synch::{sema_down, sema_up, Semaphore};
use crate::threads::thread::{self, PRI_DEFAULT};

fn need_filesys() {
    if !filesys::filesys_mounted() {
        fail!("no file system (run with --fs-disk and -f)");
    }
}

/// Byte `i` of test file `seed`'s contents.
fn pattern(seed: u32, i: usize) -> u8 {
    (i as u32).wrapping_mul(31).wrapping_add(seed * 17) as u8
}

fn check(what: &str, ok: bool) {
    if !ok {
        fail!("{what}");
    }
    msg!("{what}");
}

pub fn test_fs_basic() {
    need_filesys();
    let free0 = filesys_free_sectors();

    check("create \"alpha\" (1000 bytes)", filesys_create("alpha", 1000));
    check("create \"alpha\" again fails", !filesys_create("alpha", 10));
    check("create of a 15-character name fails", !filesys_create("abcdefghijklmno", 10));
    check("create of a 14-character name", filesys_create("abcdefghijklmn", 10));
    check("create of an empty name fails", !filesys_create("", 10));
    check("open of a missing file fails", filesys_open("beta").is_none());
    check("open of a 15-character name fails", filesys_open("abcdefghijklmno").is_none());

    let Some(mut f) = filesys_open("alpha") else { fail!("open \"alpha\" failed") };
    check("new file has length 1000 and reads as zeros", {
        let mut buf = vec![0xffu8; 1000];
        f.length() == 1000 && f.read(&mut buf) == 1000 && buf.iter().all(|&b| b == 0)
    });
    f.seek(0);
    let data: Vec<u8> = (0..1000).map(|i| pattern(1, i)).collect();
    check("write 1000 bytes", f.write(&data) == 1000 && f.tell() == 1000);
    check("write at the end writes nothing (files do not grow)", f.write(b"more") == 0 && f.tell() == 1000 && f.length() == 1000);
    f.seek(0);
    let mut back = vec![0u8; 1000];
    check("read back 1000 bytes", f.read(&mut back) == 1000 && back == data && f.tell() == 1000);
    f.seek(500);
    let mut tail = vec![0u8; 600];
    check("seek 500, tell 500, read of 600 returns the last 500", f.tell() == 500 && f.read(&mut tail) == 500 && tail[..500] == data[500..]);
    f.seek(2000);
    check("read past the end returns 0", f.read(&mut tail) == 0);
    check("write spanning sectors in the middle", f.write_at(&[7; 100], 480) == 100);
    let mut mid = [0u8; 120];
    check("read_at sees it, neighbours intact", f.read_at(&mut mid, 470) == 120 && mid[..10] == data[470..480] && mid[10..110] == [7; 100] && mid[110..] == data[580..590]);

    let Some(mut g) = filesys_open("alpha") else { fail!("second open of \"alpha\" failed") };
    check("two opens share the inode, positions are their own", g.inumber() == f.inumber() && g.tell() == 0);
    check(
        "a write through one handle is read through the other",
        g.write(&[9; 4]) == 4 && {
            let mut b = [0u8; 4];
            f.read_at(&mut b, 0) == 4 && b == [9; 4]
        },
    );
    f.deny_write();
    check("deny_write stops writes through every handle", g.write(&[1]) == 0 && f.write_at(&[1], 0) == 0);
    f.allow_write();
    check("allow_write lets them through again", g.write(&[1]) == 1);

    let before_remove = filesys_free_sectors();
    check("remove \"alpha\" while open", filesys_remove("alpha"));
    check("removed name no longer opens", filesys_open("alpha").is_none());
    check("remove of a missing name fails", !filesys_remove("alpha"));
    f.seek(600);
    let mut b = vec![0u8; 400];
    check("removed file is still readable through open handles", f.read(&mut b) == 400 && b[..] == data[600..]);
    check("its sectors stay allocated while open", filesys_free_sectors() == before_remove);
    check("the name can be reused at once", filesys_create("alpha", 3) && filesys_open("alpha").is_some_and(|h| h.inumber() != f.inumber() && h.length() == 3));
    check("and removed again", filesys_remove("alpha"));
    drop(g);
    check("sectors stay allocated until the last close", filesys_free_sectors() == before_remove);
    drop(f);
    check("last close frees the inode and its 2 data sectors", filesys_free_sectors() == before_remove + 3);

    check("create of an empty file", filesys_create("empty", 0));
    let Some(mut e) = filesys_open("empty") else { fail!("open \"empty\" failed") };
    check("empty file: length 0, reads and writes 0 bytes", e.length() == 0 && e.read(&mut b) == 0 && e.write(&b) == 0);
    drop(e);

    // The root directory holds 16 entries: two are in use.
    let mut made = 0;
    while filesys_create(&format!("f{made}"), 0) {
        made += 1;
    }
    check("the directory fills up after 14 more files", made == 14);
    check("removing one makes room for one", filesys_remove("f3") && filesys_create("again", 0) && !filesys_create("again2", 0));
    check("create larger than the free space fails", !filesys_create("huge", (filesys_free_sectors() + 1) * 512) && filesys_remove("f4"));

    let names = filesys::filesys_list();
    check("the directory lists the 15 files left", names.len() == 15 && names.iter().any(|n| n == "abcdefghijklmn") && names.iter().any(|n| n == "again"));
    for name in &names {
        if !filesys_remove(name) {
            fail!("remove \"{name}\" failed");
        }
    }
    check("removing them all empties the directory", filesys::filesys_list().is_empty());
    check("after removing everything, all sectors are free again", filesys_free_sectors() == free0);
}

const THREADS: u32 = 4;
const FILE_SIZE: usize = 3000;

pub fn test_fs_threads() {
    need_filesys();
    let shared: Vec<u8> = (0..FILE_SIZE).map(|i| pattern(99, i)).collect();
    if !filesys_create("shared", FILE_SIZE as u32) {
        fail!("create \"shared\" failed");
    }
    let Some(mut f) = filesys_open("shared") else { fail!("open \"shared\" failed") };
    if f.write(&shared) != FILE_SIZE {
        fail!("write \"shared\" failed");
    }
    drop(f);

    let done = Arc::new(Semaphore::new(0));
    for t in 0..THREADS {
        let done = done.clone();
        thread::thread_create(&format!("writer {t}"), PRI_DEFAULT, move || {
            let name = format!("file{t}");
            assert!(filesys_create(&name, FILE_SIZE as u32), "create {name}");
            let mut own = filesys_open(&name).expect("open own file");
            let mut shared = filesys_open("shared").expect("open shared");
            let mut buf = [0u8; 100];
            // Small interleaved pieces so that the threads' calls overlap in time.
            for i in (0..FILE_SIZE).step_by(100) {
                let piece: Vec<u8> = (i..i + 100).map(|j| pattern(t, j)).collect();
                assert_eq!(own.write(&piece), 100, "write {name}");
                assert_eq!(shared.read(&mut buf), 100, "read shared");
                assert!((0..100).all(|j| buf[j] == pattern(99, i + j)), "shared file corrupted at {i}");
                thread::thread_yield();
            }
            sema_up(&done);
        });
    }
    for _ in 0..THREADS {
        sema_down(&done);
    }
    msg!("{THREADS} threads wrote their files and read the shared one");
    for t in 0..THREADS {
        let name = format!("file{t}");
        let Some(mut f) = filesys_open(&name) else { fail!("open {name} failed") };
        let mut buf = vec![0u8; FILE_SIZE];
        if f.read(&mut buf) != FILE_SIZE || (0..FILE_SIZE).any(|i| buf[i] != pattern(t, i)) {
            fail!("{name} has the wrong contents");
        }
        drop(f);
        filesys_remove(&name);
    }
    filesys_remove("shared");
    msg!("every file has its writer's contents");
}
