// Pintos' `parallel_merge` (page-merge-par, -stk, -mm): 1 MiB of random data in eight
// 128 KiB chunks, each written to its own file ("buf0".."buf7") and sorted there by a
// child process running `CHILD bufI`, all children at once; then the chunks are read
// back, merged and checked. Needs `crate::vm_merge` (shared/vm_merge.rs).

use core::ffi::CStr;
use core::ptr::addr_of_mut;

use user::check;
use user::fmt::snprintf;
use user::syscall::{close, create, exec, fork, open, read, wait, write, Pid};
use user::test::set_quiet;

use crate::vm_merge;

const CHUNK_SIZE: usize = 128 * 1024;
const CHUNKS: usize = 8;
const DATA_SIZE: usize = CHUNK_SIZE * CHUNKS;

static mut DATA: [u8; DATA_SIZE] = [0; DATA_SIZE];
static mut MERGED: [u8; DATA_SIZE] = [0; DATA_SIZE];
static mut HISTOGRAM: [usize; 256] = [0; 256];

/// Runs the whole test with `child` as the sorting program, which must exit with
/// `exit_status`.
pub fn parallel_merge(child: &CStr, exit_status: i32) {
    // SAFETY: the only references to these statics, taken once.
    let (data, merged, histogram) =
        unsafe { (&mut *addr_of_mut!(DATA), &mut *addr_of_mut!(MERGED), &mut *addr_of_mut!(HISTOGRAM)) };

    vm_merge::init(data, histogram);
    sort_chunks(data, child, exit_status);
    vm_merge::merge(data, merged, CHUNK_SIZE);
    vm_merge::verify(merged, histogram);
}

fn sort_chunks(data: &mut [u8], child: &CStr, exit_status: i32) {
    let mut pids: [Pid; CHUNKS] = [0; CHUNKS];
    for (i, (pid, chunk)) in pids.iter_mut().zip(data.chunks(CHUNK_SIZE)).enumerate() {
        user::msg!("sort chunk {}", i);

        let mut name_buf = [0u8; 16];
        let name = snprintf(&mut name_buf, "buf{}", &[&i]);
        create(name, CHUNK_SIZE as u32);
        set_quiet(true);
        let fd = open(name);
        check!(fd > 1, "open \"{}\"", name);
        write(fd, chunk);
        close(fd);

        let mut cmd_buf = [0u8; 64];
        let cmd = snprintf(&mut cmd_buf, "{} {}", &[&child, &name]);
        *pid = fork(child);
        if *pid == 0 {
            let r = exec(cmd);
            check!(r != -1, "exec \"{}\"", cmd);
        }
        set_quiet(false);
    }

    for (i, (&pid, chunk)) in pids.iter().zip(data.chunks_mut(CHUNK_SIZE)).enumerate() {
        check!(wait(pid) == exit_status, "wait for child {}", i);

        set_quiet(true);
        let mut name_buf = [0u8; 16];
        let name = snprintf(&mut name_buf, "buf{}", &[&i]);
        let fd = open(name);
        check!(fd > 1, "open \"{}\"", name);
        read(fd, chunk);
        close(fd);
        set_quiet(false);
    }
}
