// Pintos' `tests/filesys/create.inc` (sm-create, lg-create): a newly created file reads
// back as `size` zero bytes.

use user::check;
use user::syscall::create;
use user::test::check_file;

/// `zeros` is the expected contents: a zero buffer of the file's size.
pub fn run(zeros: &[u8]) {
    let file_name = c"blargle";
    check!(create(file_name, zeros.len() as u32), "create \"{}\"", file_name);
    check_file(file_name, zeros);
}
