//! `disk-probe`: times IDE commands from the guest's side, on QEMU or on the emulator, to
//! choose and check the emulator's disk timing (scripts/measure-disk-latency runs both).
//!
//! * `disk-probe image FILE` writes the probe's boot disk (guests/disk_probe.S);
//! * `disk-probe report FILE` summarises a console log of the probe (QEMU's serial output);
//! * `disk-probe run [--disk-latency NS] [--disk-sector-time NS]` boots the probe on the
//!   emulator and summarises what it measured.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use emulator::devices::ide::{Disk, DiskTiming, SECTOR_SIZE};
use emulator::guests::{median, DiskProbe, DISK_PROBE_IMAGE, DISK_PROBE_SECTORS};
use emulator::machine::{Config, Limits, Machine, Outcome, DEFAULT_EPOCH, DEFAULT_RATE};

#[derive(Parser)]
#[command(name = "disk-probe", about = "Time IDE commands as a guest sees them (QEMU or this emulator)")]
struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Subcommand)]
enum What {
    /// Write the probe's boot disk image.
    Image { file: std::path::PathBuf },
    /// Summarise a console log of the probe.
    Report { file: std::path::PathBuf },
    /// Boot the probe on the emulator and summarise it.
    Run {
        #[arg(long = "disk-latency", value_name = "NS")]
        disk_latency: Option<u64>,
        #[arg(long = "disk-sector-time", value_name = "NS")]
        disk_sector_time: Option<u64>,
    },
}

fn image() -> Vec<u8> {
    let mut disk = DISK_PROBE_IMAGE.to_vec();
    disk.resize(DISK_PROBE_SECTORS as usize * SECTOR_SIZE, 0);
    disk
}

fn summary(p: &DiskProbe) -> String {
    let range = |v: &[f64]| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(0.0, f64::max);
        format!("median {:7.1} µs (min {:.1}, max {:.1}, n={})", median(v), lo, hi, v.len())
    };
    format!(
        "read 1 sector, command to DRQ:      {}\nread 8 sectors, command to 1st DRQ:  {:7.1} µs\nread 8 sectors, between sectors:     {}\nwrite 1 sector, data to completion:  {}\n",
        range(&p.read),
        p.first_of_8,
        range(&p.gaps),
        range(&p.write)
    )
}

fn main() -> Result<()> {
    match Args::parse().what {
        What::Image { file } => std::fs::write(&file, image()).with_context(|| format!("writing {}", file.display()))?,
        What::Report { file } => {
            let text = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let p = DiskProbe::parse(&String::from_utf8_lossy(&text)).context("the log holds no finished probe run")?;
            print!("{}", summary(&p));
        }
        What::Run { disk_latency, disk_sector_time } => {
            let default = DiskTiming::DEFAULT;
            let disk_timing = DiskTiming { command_ns: disk_latency.unwrap_or(default.command_ns), sector_ns: disk_sector_time.unwrap_or(default.sector_ns) };
            let disks = [[Some(Disk::from_bytes(image())?), None], [None, None]];
            let mut m = Machine::new(Config { memory: 4 << 20, rate: DEFAULT_RATE, epoch: DEFAULT_EPOCH, disks, disk_timing })?;
            let mut out = Vec::new();
            let o = m.run(Limits { virtual_time: Some(Duration::from_secs(10)), ..Limits::default() }, |b| {
                out.extend_from_slice(b);
                true
            });
            if o != Outcome::PowerOff {
                bail!("the probe did not power off: {o:?}");
            }
            let p = DiskProbe::parse(&String::from_utf8_lossy(&out)).context("the probe printed no results")?;
            println!("timing: {} ns per command, {} ns per sector", disk_timing.command_ns, disk_timing.sector_ns);
            print!("{}", summary(&p));
        }
    }
    Ok(())
}
