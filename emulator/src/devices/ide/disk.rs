//! Disk images behind the IDE controller.
//!
//! The controller's register state is plain data; the bytes of a disk live behind the
//! [`DiskBackend`] trait so that the state stays `Clone + PartialEq` and host files stay out
//! of it. Two backends exist: [`FileDisk`] (a raw image file, the `os.dsk`/`fs.dsk`/`swap.dsk`
//! the `pintos` tool uses) and [`MemoryDisk`] (tests and temporary disks).
//!
//! Durability: the product requires that nothing the guest writes is lost on a normal exit,
//! a timeout or a guest crash. [`FileDisk`] therefore writes every sector to the file at once
//! (`pwrite`), so the data is in the host kernel's page cache the moment the guest's WRITE
//! SECTORS completes and survives the emulator process dying; `flush` (FLUSH CACHE, power-off,
//! drop) additionally syncs it to stable storage.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use thiserror::Error;

/// Bytes per ATA sector.
pub const SECTOR_SIZE: usize = 512;

/// The `pintos` utility's disk-size unit: a size given as a number N means N × 0xfc000 bytes
/// (one MB rounded to whole 16-head, 63-sector cylinders).
pub const PINTOS_DISK_UNIT: u64 = 0xfc000;

/// The largest capacity LBA28 can address (28 address bits). Bigger images are refused at
/// open time rather than silently truncated, since the controller implements LBA28 only.
pub const MAX_SECTORS: u64 = 1 << 28;

/// One sector's bytes.
pub type Sector = [u8; SECTOR_SIZE];

/// Storage behind one drive. Sector numbers are always `< sectors()` when the controller
/// calls; implementations still reject others with an error instead of panicking.
pub trait DiskBackend: Send {
    /// Capacity in whole sectors (a partial last sector counts as one).
    fn sectors(&self) -> u64;
    /// Reads sector `lba` into `buf`.
    fn read(&mut self, lba: u64, buf: &mut Sector) -> io::Result<()>;
    /// Writes `buf` to sector `lba`; the data must reach durable-enough storage (for a file:
    /// the file itself) before returning.
    fn write(&mut self, lba: u64, buf: &Sector) -> io::Result<()>;
    /// Makes earlier writes durable (fsync for files).
    fn flush(&mut self) -> io::Result<()>;
}

fn out_of_range(lba: u64, sectors: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("sector {lba} is beyond the disk's {sectors} sectors"),
    )
}

/// Why a disk image could not be opened.
#[derive(Debug, Error)]
pub enum DiskError {
    #[error("disk image {0} does not exist")]
    NotFound(PathBuf),
    #[error("disk image {path} cannot be opened: {source}")]
    Unreadable { path: PathBuf, source: io::Error },
    #[error("disk image {0} is not a regular file")]
    NotAFile(PathBuf),
    #[error("disk image {0} is empty")]
    Empty(PathBuf),
    #[error("disk image {path} is {bytes} bytes, more than LBA28 can address (128 GiB)")]
    TooLarge { path: PathBuf, bytes: u64 },
    #[error("a disk of {0} bytes is empty or more than LBA28 can address")]
    BadSize(u64),
}

/// A raw disk image file.
///
/// A file whose size is not a multiple of 512 has a partial last sector: it reads as the
/// file's bytes followed by zeros. Writing that sector writes all 512 bytes, which extends the
/// file to a whole number of sectors (as QEMU's raw driver does); the disk's capacity does
/// not change and no byte outside the written sector is touched. Nothing can be written past
/// the capacity (the controller reports IDNF first, and `write` rejects it too).
#[derive(Debug)]
pub struct FileDisk {
    file: File,
    path: PathBuf,
    /// Current file length in bytes (grows only when the partial last sector is written).
    len: u64,
    sectors: u64,
    read_only: bool,
    /// Writes since the last successful sync, so drop does not fsync needlessly.
    dirty: bool,
}

impl FileDisk {
    /// Opens `path` read-write, or read-only (guest writes then fail with an ATA error).
    pub fn open(path: impl AsRef<Path>, read_only: bool) -> Result<FileDisk, DiskError> {
        let path = path.as_ref().to_path_buf();
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(DiskError::NotFound(path)),
            Err(source) => return Err(DiskError::Unreadable { path, source }),
        };
        if !meta.is_file() {
            return Err(DiskError::NotAFile(path));
        }
        let file = match OpenOptions::new().read(true).write(!read_only).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(DiskError::NotFound(path)),
            Err(source) => return Err(DiskError::Unreadable { path, source }),
        };
        // Size from the open handle, not the earlier stat, in case the file was replaced.
        let len = file
            .metadata()
            .map_err(|source| DiskError::Unreadable {
                path: path.clone(),
                source,
            })?
            .len();
        if len == 0 {
            return Err(DiskError::Empty(path));
        }
        let sectors = len.div_ceil(SECTOR_SIZE as u64);
        if sectors > MAX_SECTORS {
            return Err(DiskError::TooLarge { path, bytes: len });
        }
        Ok(FileDisk {
            file,
            path,
            len,
            sectors,
            read_only,
            dirty: false,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn is_read_only(&self) -> bool {
        self.read_only
    }
}

impl DiskBackend for FileDisk {
    fn sectors(&self) -> u64 {
        self.sectors
    }

    fn read(&mut self, lba: u64, buf: &mut Sector) -> io::Result<()> {
        if lba >= self.sectors {
            return Err(out_of_range(lba, self.sectors));
        }
        let offset = lba * SECTOR_SIZE as u64;
        let mut done = 0;
        while done < SECTOR_SIZE {
            match self.file.read_at(&mut buf[done..], offset + done as u64) {
                Ok(0) => break, // end of file: the rest of a partial sector reads as zero
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        buf[done..].fill(0);
        Ok(())
    }

    fn write(&mut self, lba: u64, buf: &Sector) -> io::Result<()> {
        if self.read_only {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "disk image is read-only",
            ));
        }
        if lba >= self.sectors {
            return Err(out_of_range(lba, self.sectors));
        }
        let offset = lba * SECTOR_SIZE as u64;
        self.dirty = true;
        self.file.write_all_at(buf, offset)?;
        self.len = self.len.max(offset + SECTOR_SIZE as u64);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.read_only || !self.dirty {
            return Ok(());
        }
        self.file.sync_data()?;
        self.dirty = false;
        Ok(())
    }
}

impl Drop for FileDisk {
    fn drop(&mut self) {
        // Every write already reached the file; this only makes it durable. Nothing useful
        // can be done with an error at this point.
        let _ = self.flush();
    }
}

/// A disk held in host memory (tests, temporary scratch disks).
#[derive(Clone, PartialEq, Eq)]
pub struct MemoryDisk {
    data: Vec<u8>,
    read_only: bool,
}

impl MemoryDisk {
    /// A disk with these contents, zero-padded to a whole number of sectors.
    pub fn from_bytes(mut data: Vec<u8>) -> Result<MemoryDisk, DiskError> {
        let len = data.len() as u64;
        let sectors = len.div_ceil(SECTOR_SIZE as u64);
        if sectors == 0 || sectors > MAX_SECTORS {
            return Err(DiskError::BadSize(len));
        }
        data.resize((sectors as usize) * SECTOR_SIZE, 0);
        Ok(MemoryDisk {
            data,
            read_only: false,
        })
    }

    /// An all-zero disk of `bytes` bytes (rounded up to whole sectors).
    pub fn zeroed(bytes: u64) -> Result<MemoryDisk, DiskError> {
        let sectors = bytes.div_ceil(SECTOR_SIZE as u64);
        if sectors == 0 || sectors > MAX_SECTORS {
            return Err(DiskError::BadSize(bytes));
        }
        Ok(MemoryDisk {
            data: vec![0; sectors as usize * SECTOR_SIZE],
            read_only: false,
        })
    }

    /// Makes guest writes fail (they become ATA errors).
    pub fn read_only(mut self) -> MemoryDisk {
        self.read_only = true;
        self
    }

    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.data
    }
}

impl fmt::Debug for MemoryDisk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryDisk")
            .field("sectors", &(self.data.len() / SECTOR_SIZE))
            .field("read_only", &self.read_only)
            .finish()
    }
}

impl DiskBackend for MemoryDisk {
    fn sectors(&self) -> u64 {
        (self.data.len() / SECTOR_SIZE) as u64
    }

    fn read(&mut self, lba: u64, buf: &mut Sector) -> io::Result<()> {
        let sectors = self.sectors();
        if lba >= sectors {
            return Err(out_of_range(lba, sectors));
        }
        let at = lba as usize * SECTOR_SIZE;
        buf.copy_from_slice(&self.data[at..at + SECTOR_SIZE]);
        Ok(())
    }

    fn write(&mut self, lba: u64, buf: &Sector) -> io::Result<()> {
        let sectors = self.sectors();
        if self.read_only {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "disk is read-only",
            ));
        }
        if lba >= sectors {
            return Err(out_of_range(lba, sectors));
        }
        let at = lba as usize * SECTOR_SIZE;
        self.data[at..at + SECTOR_SIZE].copy_from_slice(buf);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What IDENTIFY DEVICE reports about a drive besides its size. `None` fields take the
/// defaults QEMU gives its IDE disks (model "QEMU HARDDISK", serial "QM0000n" numbered by
/// position: hd0:0 = 1, hd0:1 = 2, hd1:0 = 3, hd1:1 = 4), because Pintos prints model and
/// serial at boot and our console output must match QEMU's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiskIdentity {
    pub model: Option<String>,
    pub serial: Option<String>,
    pub firmware: Option<String>,
}

/// Sectors written over a disk's backend, kept in memory: the disk's changes since it
/// went copy-on-write ([`Disk::copy_on_write`]). Kept in shared chunks of
/// [`OVERLAY_CHUNK`] sectors, so a snapshot's copy costs one reference per chunk and a
/// write after it copies one chunk's index, never the data.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Overlay {
    chunks: BTreeMap<u64, Arc<BTreeMap<u64, Arc<Sector>>>>,
}

/// Sectors per [`Overlay`] chunk.
pub const OVERLAY_CHUNK: u64 = 256;

impl Overlay {
    pub fn new() -> Overlay {
        Overlay::default()
    }

    pub fn get(&self, lba: u64) -> Option<&Sector> {
        self.chunks.get(&(lba / OVERLAY_CHUNK))?.get(&lba).map(|s| &**s)
    }

    pub fn insert(&mut self, lba: u64, sector: Sector) {
        Arc::make_mut(self.chunks.entry(lba / OVERLAY_CHUNK).or_default()).insert(lba, Arc::new(sector));
    }

    /// Sectors written, by number.
    pub fn len(&self) -> usize {
        self.chunks.values().map(|c| c.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// (sector number, bytes), in order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &Sector)> {
        self.chunks.values().flat_map(|c| c.iter().map(|(lba, s)| (*lba, &**s)))
    }
}

impl fmt::Debug for Overlay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The sectors' numbers and a hash of each: enough to compare two overlays.
        f.debug_map().entries(self.iter().map(|(lba, s)| (lba, crate::observe::hash64(s)))).finish()
    }
}

/// A drive to attach to the controller: its storage plus its identity.
pub struct Disk {
    backend: Box<dyn DiskBackend>,
    pub identity: DiskIdentity,
    /// Copy-on-write: writes land here instead of the backend (replays and snapshots).
    overlay: Option<Overlay>,
}

impl fmt::Debug for Disk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Disk")
            .field("sectors", &self.backend.sectors())
            .field("identity", &self.identity)
            .finish()
    }
}

impl Disk {
    pub fn new(backend: Box<dyn DiskBackend>) -> Disk {
        Disk {
            backend,
            identity: DiskIdentity::default(),
            overlay: None,
        }
    }

    /// A raw image file (see [`FileDisk`]).
    pub fn open(path: impl AsRef<Path>, read_only: bool) -> Result<Disk, DiskError> {
        Ok(Disk::new(Box::new(FileDisk::open(path, read_only)?)))
    }

    /// An in-memory disk with these contents (zero-padded to whole sectors).
    pub fn from_bytes(data: Vec<u8>) -> Result<Disk, DiskError> {
        Ok(Disk::new(Box::new(MemoryDisk::from_bytes(data)?)))
    }

    /// An all-zero in-memory disk of `bytes` bytes, e.g. `N * PINTOS_DISK_UNIT`.
    pub fn zeroed(bytes: u64) -> Result<Disk, DiskError> {
        Ok(Disk::new(Box::new(MemoryDisk::zeroed(bytes)?)))
    }

    pub fn with_model(mut self, model: &str) -> Disk {
        self.identity.model = Some(model.to_string());
        self
    }

    pub fn with_serial(mut self, serial: &str) -> Disk {
        self.identity.serial = Some(serial.to_string());
        self
    }

    pub fn sectors(&self) -> u64 {
        self.backend.sectors()
    }

    /// Host-side access to the storage itself, past any copy-on-write overlay. Not counted
    /// in the guest statistics.
    pub fn backend_mut(&mut self) -> &mut dyn DiskBackend {
        &mut *self.backend
    }

    pub fn read_sector(&mut self, lba: u64, buf: &mut Sector) -> io::Result<()> {
        if let Some(s) = self.overlay.as_ref().and_then(|o| o.get(lba)) {
            buf.copy_from_slice(s);
            return Ok(());
        }
        self.backend.read(lba, buf)
    }

    pub fn write_sector(&mut self, lba: u64, buf: &Sector) -> io::Result<()> {
        match &mut self.overlay {
            Some(o) => {
                if lba >= self.backend.sectors() {
                    return Err(out_of_range(lba, self.backend.sectors()));
                }
                o.insert(lba, *buf);
                Ok(())
            }
            None => self.backend.write(lba, buf),
        }
    }

    pub fn flush(&mut self) -> io::Result<()> {
        if self.overlay.is_some() {
            return Ok(());
        }
        self.backend.flush()
    }

    /// From now on the guest's writes stay in memory and the backend (the image file) is
    /// never written: a replay must not change the disks it was checked against, and a
    /// snapshot must be able to take the disk back.
    pub fn copy_on_write(&mut self) {
        self.overlay.get_or_insert_with(Overlay::new);
    }

    /// The sectors written since the disk went copy-on-write (None: it has not).
    pub fn overlay(&self) -> Option<&Overlay> {
        self.overlay.as_ref()
    }

    /// Puts back an overlay taken with [`Disk::overlay`]: the disk reads as it did then.
    pub fn set_overlay(&mut self, overlay: Overlay) {
        self.overlay = Some(overlay);
    }
}

/// The controller reaches a drive's storage through the [`Disk`], so copy-on-write
/// holds for the guest's writes too.
impl DiskBackend for Disk {
    fn sectors(&self) -> u64 {
        self.backend.sectors()
    }
    fn read(&mut self, lba: u64, buf: &mut Sector) -> io::Result<()> {
        self.read_sector(lba, buf)
    }
    fn write(&mut self, lba: u64, buf: &Sector) -> io::Result<()> {
        self.write_sector(lba, buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Disk::flush(self)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #[test]
    fn copy_on_write_keeps_every_write_off_the_backend() {
        let mut d = Disk::from_bytes(vec![7u8; 4 * SECTOR_SIZE]).unwrap();
        d.copy_on_write();
        // The controller writes through the disk as a backend.
        let backend: &mut dyn DiskBackend = &mut d;
        backend.write(1, &[9; SECTOR_SIZE]).unwrap();
        assert!(backend.write(4, &[9; SECTOR_SIZE]).is_err(), "past the end");
        let mut buf = [0; SECTOR_SIZE];
        d.read_sector(1, &mut buf).unwrap();
        assert_eq!(buf, [9; SECTOR_SIZE]);
        d.backend_mut().read(1, &mut buf).unwrap();
        assert_eq!(buf, [7; SECTOR_SIZE], "the image itself is untouched");
        let before = d.overlay().unwrap().clone();
        d.write_sector(1, &[5; SECTOR_SIZE]).unwrap();
        d.set_overlay(before);
        d.read_sector(1, &mut buf).unwrap();
        assert_eq!(buf, [9; SECTOR_SIZE], "an overlay put back reads as it did");
    }

    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A fresh path in the host temp directory, removed when the guard drops.
    pub(crate) struct TempPath(pub PathBuf);

    impl TempPath {
        pub(crate) fn new(tag: &str) -> TempPath {
            static NEXT: AtomicU32 = AtomicU32::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            TempPath(
                std::env::temp_dir()
                    .join(format!("emu-ide-test-{}-{tag}-{n}.dsk", std::process::id())),
            )
        }
    }

    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn open_missing_file_is_not_found() {
        let p = TempPath::new("missing");
        assert!(matches!(
            FileDisk::open(&p.0, false),
            Err(DiskError::NotFound(_))
        ));
    }

    #[test]
    fn open_empty_file_is_refused() {
        let p = TempPath::new("empty");
        std::fs::write(&p.0, b"").unwrap();
        assert!(matches!(
            FileDisk::open(&p.0, false),
            Err(DiskError::Empty(_))
        ));
    }

    #[test]
    fn open_directory_is_refused() {
        assert!(matches!(
            FileDisk::open(std::env::temp_dir(), true),
            Err(DiskError::NotAFile(_))
        ));
    }

    #[test]
    fn partial_last_sector_reads_zero_padded_and_write_touches_only_that_sector() {
        let p = TempPath::new("partial");
        let mut content = vec![0x11u8; SECTOR_SIZE];
        content.extend_from_slice(&[0x22; 100]);
        std::fs::write(&p.0, &content).unwrap();
        let mut d = FileDisk::open(&p.0, false).unwrap();
        assert_eq!(d.sectors(), 2);
        let mut buf = [0xffu8; SECTOR_SIZE];
        d.read(1, &mut buf).unwrap();
        assert!(buf[..100].iter().all(|&b| b == 0x22));
        assert!(buf[100..].iter().all(|&b| b == 0));
        // Beyond the capacity: refused, file untouched.
        assert!(d.write(2, &[0x33; SECTOR_SIZE]).is_err());
        assert!(d.read(2, &mut buf).is_err());
        assert_eq!(std::fs::read(&p.0).unwrap(), content);
        // The partial sector itself: written whole, capacity unchanged, sector 0 untouched.
        d.write(1, &[0x44; SECTOR_SIZE]).unwrap();
        assert_eq!(d.sectors(), 2);
        let now = std::fs::read(&p.0).unwrap();
        assert_eq!(now.len(), 2 * SECTOR_SIZE);
        assert!(now[..SECTOR_SIZE].iter().all(|&b| b == 0x11));
        assert!(now[SECTOR_SIZE..].iter().all(|&b| b == 0x44));
    }

    #[test]
    fn read_only_file_rejects_writes_and_keeps_contents() {
        let p = TempPath::new("ro");
        std::fs::write(&p.0, vec![7u8; 2 * SECTOR_SIZE]).unwrap();
        let mut d = FileDisk::open(&p.0, true).unwrap();
        assert!(d.write(0, &[0; SECTOR_SIZE]).is_err());
        d.flush().unwrap();
        drop(d);
        assert_eq!(std::fs::read(&p.0).unwrap(), vec![7u8; 2 * SECTOR_SIZE]);
    }

    #[test]
    fn memory_disk_pads_and_bounds_checks() {
        let mut d = MemoryDisk::from_bytes(vec![1; 600]).unwrap();
        assert_eq!(d.sectors(), 2);
        let mut buf = [0u8; SECTOR_SIZE];
        d.read(1, &mut buf).unwrap();
        assert_eq!(buf[87], 1);
        assert_eq!(buf[88], 0);
        assert!(d.read(2, &mut buf).is_err());
        assert!(MemoryDisk::zeroed(0).is_err());
        assert_eq!(
            MemoryDisk::zeroed(4 * PINTOS_DISK_UNIT).unwrap().sectors(),
            4 * 2016
        );
    }
}
