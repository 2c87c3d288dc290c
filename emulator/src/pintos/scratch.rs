//! Host-side disk formats of the Pintos utility: the kernel command line in the boot
//! sector, and the scratch disk's put/get records.
//!
//! A scratch-disk record is one 512-byte header sector (`"PUT\0"` or `"GET\0"`, then the
//! file size as a little-endian u32) followed by the data padded to whole sectors.

use thiserror::Error;

/// Offset of the argument count in the boot sector.
pub const ARGC_OFFSET: usize = 0x17a;
/// Offset of the NUL-separated arguments in the boot sector.
pub const ARGS_OFFSET: usize = 0x17e;
/// Room for the arguments.
pub const ARGS_SIZE: usize = 128;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ScratchError {
    #[error("kernel command line is {0} bytes; at most 128 fit in the boot sector")]
    CommandLineTooLong(usize),
    #[error("boot disk is too small to hold a boot sector")]
    NoBootSector,
    #[error("kernel argument contains a NUL byte")]
    NulInArgument,
    #[error("file {0} is too large for the scratch disk (4 GiB limit)")]
    TooLarge(String),
    #[error("scratch disk has no GET record for `{0}` (the kernel did not write it)")]
    MissingGet(String),
    #[error("scratch disk record for `{0}` is corrupt")]
    Corrupt(String),
}

/// Writes `argv` into the boot sector at the start of `disk`.
pub fn set_command_line(disk: &mut [u8], argv: &[String]) -> Result<(), ScratchError> {
    if disk.len() < 512 {
        return Err(ScratchError::NoBootSector);
    }
    let mut bytes = Vec::new();
    for a in argv {
        if a.contains('\0') {
            return Err(ScratchError::NulInArgument);
        }
        bytes.extend_from_slice(a.as_bytes());
        bytes.push(0);
    }
    if bytes.len() > ARGS_SIZE {
        return Err(ScratchError::CommandLineTooLong(bytes.len()));
    }
    disk[ARGC_OFFSET..ARGC_OFFSET + 4].copy_from_slice(&(argv.len() as u32).to_le_bytes());
    disk[ARGS_OFFSET..ARGS_OFFSET + ARGS_SIZE].fill(0);
    disk[ARGS_OFFSET..ARGS_OFFSET + bytes.len()].copy_from_slice(&bytes);
    Ok(())
}

fn pad(n: usize) -> usize {
    n.div_ceil(512) * 512
}

/// Builds scratch-disk contents holding `files` (name, data) as PUT records.
pub fn put_records(files: &[(String, Vec<u8>)]) -> Result<Vec<u8>, ScratchError> {
    let mut out = Vec::new();
    for (name, data) in files {
        let size = u32::try_from(data.len()).map_err(|_| ScratchError::TooLarge(name.clone()))?;
        let mut header = [0u8; 512];
        header[..4].copy_from_slice(b"PUT\0");
        header[4..8].copy_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(data);
        out.resize(out.len() + pad(data.len()) - data.len(), 0);
    }
    Ok(out)
}

/// Reads the GET records the kernel wrote, in order, starting at `start` bytes (the end of
/// the PUT records). Returns one data blob per name in `names`.
pub fn get_records(disk: &[u8], start: usize, names: &[String]) -> Result<Vec<Vec<u8>>, ScratchError> {
    let mut at = start;
    let mut out = Vec::new();
    for name in names {
        let header = disk.get(at..at + 512).ok_or_else(|| ScratchError::MissingGet(name.clone()))?;
        if &header[..4] != b"GET\0" {
            return Err(ScratchError::MissingGet(name.clone()));
        }
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        let data = disk.get(at + 512..at + 512 + size).ok_or_else(|| ScratchError::Corrupt(name.clone()))?;
        out.push(data.to_vec());
        at += 512 + pad(size);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_lands_in_the_boot_sector() {
        let mut disk = vec![0xffu8; 1024];
        set_command_line(&mut disk, &["-q".into(), "run".into(), "args-many a b".into()]).unwrap();
        assert_eq!(&disk[0x17a..0x17e], &3u32.to_le_bytes());
        assert_eq!(&disk[0x17e..0x17e + 21], b"-q\0run\0args-many a b\0");
        assert!(disk[0x17e + 21..0x1fe].iter().all(|&b| b == 0));
        assert_eq!(disk[0x1fe], 0xff, "signature untouched");
    }

    #[test]
    fn command_line_too_long_is_an_error() {
        let mut disk = vec![0u8; 512];
        let long = vec!["x".repeat(200)];
        assert_eq!(set_command_line(&mut disk, &long), Err(ScratchError::CommandLineTooLong(201)));
    }

    #[test]
    fn put_records_are_sector_aligned() {
        let d = put_records(&[("a".into(), vec![1; 3]), ("b".into(), vec![2; 600])]).unwrap();
        assert_eq!(d.len(), 512 + 512 + 512 + 1024);
        assert_eq!(&d[..8], b"PUT\0\x03\0\0\0");
        assert_eq!(&d[1024..1032], b"PUT\0\x58\x02\0\0");
    }

    #[test]
    fn get_records_round_trip() {
        let mut disk = vec![0u8; 4096];
        disk[512..516].copy_from_slice(b"GET\0");
        disk[516..520].copy_from_slice(&5u32.to_le_bytes());
        disk[1024..1029].copy_from_slice(b"hello");
        let got = get_records(&disk, 512, &["f".into()]).unwrap();
        assert_eq!(got, vec![b"hello".to_vec()]);
        assert!(matches!(get_records(&disk, 0, &["f".into()]), Err(ScratchError::MissingGet(_))));
    }
}
