//! The basic file system of Pintos' projects 2 and 3: one root directory of fixed-size
//! entries, files allocated as one contiguous run of sectors that never grows, a free
//! map of sectors, on the file-system disk (hd0:1).
//!
//! # On-disk layout
//!
//! Sector 0 is the free map's inode and sector 1 the root directory's (see `inode.rs`
//! for the inode, `free_map.rs` for the bitmap, `directory.rs` for the entries); every
//! other sector belongs to whichever file the free map gives it to. `-f` writes a fresh
//! layout; without it `filesys_init` checks both inodes' magic numbers and the free
//! map's size against the disk before it trusts what it finds.
//!
//! # Concurrency
//!
//! One `Mutex` (a sleeping lock with priority donation) guards everything: the open-inode
//! table, the free map and every disk access the file system makes, as Pintos' project 2
//! asks for with a single global file-system lock. Each public function takes it for the
//! whole operation, so the internal `FileSys` methods assume it is held and never take
//! it again. Writes go straight to the disk (there is no cache), so nothing is lost if
//! the machine powers off without `filesys_done`.

pub mod directory;
pub mod file;
pub mod free_map;
pub mod fsutil;
pub mod inode;

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use crate::arch::cell::IrqCell;
use crate::devices::block::{self, Block, Role, Sector};
use crate::threads::synch::Mutex;
use file::File;
use free_map::FreeMap;
use inode::OpenInode;

/// Sector of the free map file's inode.
pub const FREE_MAP_SECTOR: Sector = 0;
/// Sector of the root directory's inode.
pub const ROOT_DIR_SECTOR: Sector = 1;
/// Entries in the root directory (fixed, since files cannot grow).
pub const ROOT_DIR_ENTRIES: usize = 16;

/// Everything the file-system lock guards.
pub struct FileSys {
    disk: &'static Block,
    /// Open inodes by sector: opening a sector that is already open shares its entry.
    inodes: BTreeMap<Sector, OpenInode>,
    free_map: FreeMap,
}

/// The mounted file system, if any. Set once by `filesys_init`, cleared by `filesys_done`.
static FILESYS: IrqCell<Option<&'static Mutex<FileSys>>> = IrqCell::new(None);

/// Whether a file system is mounted (there is an hd0:1 holding one).
pub fn filesys_mounted() -> bool {
    FILESYS.with(|f| f.is_some())
}

/// Runs `f` with the file-system lock held. Panics if there is no file system: callers
/// outside this module reach it only through a `File` or after `filesys_mounted`.
fn with_fs<R>(f: impl FnOnce(&mut FileSys) -> R) -> R {
    let fs = FILESYS.with(|fs| *fs).expect("no file system (attach a disk with --fs-disk and format it with -f)");
    let mut guard = fs.lock();
    f(&mut guard)
}

/// Mounts the file system on hd0:1, formatting it first if `format` (`-f`). Without a
/// file-system disk there is nothing to mount (threads tests run without one), unless
/// `-f` asked for it, which is fatal as in Pintos.
pub fn filesys_init(format: bool) {
    let Some(disk) = block::block_get_role(Role::Filesys) else {
        if format {
            panic!("hd0:1 (hdb) not present, file system initialization failed");
        }
        return;
    };
    let fs = if format {
        print!("Formatting file system...");
        let fs = FileSys::format(disk);
        println!("done.");
        fs
    } else {
        match FileSys::mount(disk) {
            Ok(fs) => fs,
            Err(why) => {
                println!("filesys: {} holds no file system ({why}); format it with -f", disk.name());
                return;
            }
        }
    };
    let fs: &'static Mutex<FileSys> = alloc::boxed::Box::leak(alloc::boxed::Box::new(Mutex::new(fs)));
    FILESYS.with(|f| *f = Some(fs));
}

/// Unmounts the file system. Every write has already reached the disk, so this only
/// forgets the open inodes; files still open afterwards must not be used.
pub fn filesys_done() {
    if let Some(fs) = FILESYS.with(|f| f.take()) {
        let mut fs = fs.lock();
        fs.inodes.clear();
    }
}

impl FileSys {
    fn format(disk: &'static Block) -> FileSys {
        let mut fs = FileSys { disk, inodes: BTreeMap::new(), free_map: FreeMap::new(disk.size()) };
        fs.free_map_create();
        assert!(fs.dir_create(ROOT_DIR_SECTOR, ROOT_DIR_ENTRIES), "root directory creation failed");
        fs.inode_open(ROOT_DIR_SECTOR).expect("root directory just written");
        fs
    }

    fn mount(disk: &'static Block) -> Result<FileSys, &'static str> {
        let mut fs = FileSys { disk, inodes: BTreeMap::new(), free_map: FreeMap::new(disk.size()) };
        fs.free_map_open()?;
        fs.inode_open(ROOT_DIR_SECTOR).ok_or("no root directory inode")?;
        Ok(fs)
    }
}

/// Creates a file called `name` of `initial_size` bytes (zeros) in the root directory.
/// Fails if the name is empty, longer than 14 bytes or taken, or the disk or the
/// directory is full.
pub fn filesys_create(name: &str, initial_size: u32) -> bool {
    with_fs(|fs| {
        if !directory::name_ok(name) || fs.dir_lookup(ROOT_DIR_SECTOR, name).is_some() {
            return false;
        }
        let Some(sector) = fs.free_map_allocate(1) else { return false };
        if !fs.inode_create(sector, initial_size) {
            fs.free_map_release(sector, 1);
            return false;
        }
        if !fs.dir_add(ROOT_DIR_SECTOR, name, sector) {
            // Opening and removing frees the data and the inode sector together.
            fs.inode_open(sector).expect("inode just written");
            fs.inode_remove(sector);
            fs.inode_close(sector);
            return false;
        }
        true
    })
}

/// Opens the file called `name`.
pub fn filesys_open(name: &str) -> Option<File> {
    with_fs(|fs| {
        let (entry, _) = fs.dir_lookup(ROOT_DIR_SECTOR, name)?;
        fs.inode_open(entry.sector)?;
        Some(File::new(entry.sector))
    })
}

/// Removes the file called `name` from the directory. Its sectors are freed when the
/// last opener closes it; until then it stays readable through the open handles.
pub fn filesys_remove(name: &str) -> bool {
    with_fs(|fs| fs.dir_remove(ROOT_DIR_SECTOR, name))
}

/// The next name in the root directory from `*pos` (0 to start), moving `*pos` past it;
/// None at the end. Files created or removed between calls may be seen or missed, but
/// no name is returned twice.
pub fn filesys_readdir(pos: &mut u32) -> Option<String> {
    with_fs(|fs| fs.dir_readdir(ROOT_DIR_SECTOR, pos))
}

/// Names in the root directory, in directory order.
pub fn filesys_list() -> Vec<String> {
    with_fs(|fs| fs.dir_names(ROOT_DIR_SECTOR))
}

/// Free sectors left on the disk.
pub fn filesys_free_sectors() -> u32 {
    with_fs(|fs| fs.free_map.free_count())
}
