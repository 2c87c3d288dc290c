//! The `pintos` command line: the Pintos-KAIST utility's options, plus ours.
//!
//! Everything before `--` is for the utility; everything after is the kernel's command
//! line. Options the KAIST Makefiles pass for other simulators (`--qemu`, `--bochs`,
//! `-j`, `-r`) are accepted and ignored so `make check` works unchanged.

use std::path::PathBuf;

use clap::Parser;

/// A disk given as an image file or as a size (N means N × 0xfc000 bytes, a fresh
/// zero-filled disk that disappears after the run).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiskSpec {
    File(PathBuf),
    Size(u64),
}

/// Bytes in one unit of a disk size given as a number.
pub const DISK_UNIT: u64 = 0xfc000;

impl DiskSpec {
    /// Parses `FILE` or `N`: a number is a size unless a file of that name exists.
    pub fn parse(s: &str) -> Self {
        match s.parse::<u64>() {
            Ok(n) if !std::path::Path::new(s).exists() => DiskSpec::Size(n),
            _ => DiskSpec::File(PathBuf::from(s)),
        }
    }
}

/// A file copied into the guest before the run: `HOST[:GUEST]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PutFile {
    pub host: PathBuf,
    pub guest: String,
}

/// A file copied out of the guest after the run: `GUEST[:HOST]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetFile {
    pub guest: String,
    pub host: PathBuf,
}

fn parse_put(s: &str) -> Result<PutFile, String> {
    let (host, guest) = match s.split_once(':') {
        Some((h, g)) => (h, g.to_string()),
        None => (s, s.rsplit('/').next().unwrap_or(s).to_string()),
    };
    if host.is_empty() || guest.is_empty() {
        return Err(format!("bad put file `{s}`: expected HOST[:GUEST]"));
    }
    if guest.len() > 14 {
        return Err(format!("guest file name `{guest}` is longer than 14 characters"));
    }
    Ok(PutFile { host: PathBuf::from(host), guest })
}

fn parse_get(s: &str) -> Result<GetFile, String> {
    let (guest, host) = match s.split_once(':') {
        Some((g, h)) => (g.to_string(), h),
        None => (s.to_string(), s.rsplit('/').next().unwrap_or(s)),
    };
    if guest.is_empty() || host.is_empty() {
        return Err(format!("bad get file `{s}`: expected GUEST[:HOST]"));
    }
    Ok(GetFile { guest, host: PathBuf::from(host) })
}

fn parse_disk(s: &str) -> Result<DiskSpec, String> {
    if s.is_empty() {
        return Err("empty disk name".into());
    }
    Ok(DiskSpec::parse(s))
}

#[derive(Parser, Clone, Debug)]
#[command(
    name = "pintos",
    about = "Run a Pintos kernel on the deterministic x86-64 emulator",
    version,
    after_help = "Tests: `pintos test [PREFIX...] [--out DIR] [-j N] [--os-disk FILE] [--project P] [--grade] [--list]`\n\
                  runs Pintos tests and checks them like `make check` (it runs the pintos-test binary\n\
                  next to this one; `pintos test --help` for its options). Without ./os.dsk or\n\
                  --os-disk it tests the built-in kernel with the threads project:\n\
                  `pintos test tests/threads` runs all 27 threads tests."
)]
pub struct Options {
    /// No VGA display (always the case: the console is the serial port on stdout).
    #[arg(short = 'v', long = "no-vga")]
    pub no_vga: bool,
    /// Stop soon after a kernel panic, a test failure or a triple fault.
    #[arg(short = 'k', long = "kill-on-failure")]
    pub kill_on_failure: bool,
    /// Stop after SEC seconds of virtual time (with a host-time guard, see --host-timeout).
    #[arg(short = 'T', long = "timeout", value_name = "SEC")]
    pub timeout: Option<u64>,
    /// Host-time guard in seconds (0: none). Default: what a host running 50 M
    /// instructions per second needs to reach the -T virtual timeout (8 × -T at the
    /// default rate), so a loaded host cannot turn a deterministic pass into a TIMEOUT;
    /// every hang reaches the virtual timeout first.
    #[arg(long = "host-timeout", value_name = "SEC")]
    pub host_timeout: Option<u64>,
    /// Guest memory in MB.
    #[arg(short = 'm', long = "memory", value_name = "MB", default_value_t = 256, value_parser = clap::value_parser!(u64).range(2..=65536))]
    pub memory: u64,
    /// Boot disk image (default: ./os.dsk, else the built-in target/pintos/os.dsk).
    #[arg(long = "os-disk", value_name = "FILE")]
    pub os_disk: Option<PathBuf>,
    /// File-system disk: an image file or a size N (N × 0xfc000 bytes, temporary). Default: ./fs.dsk if it exists; else, for the built-in kernel with files to put or get, a temporary one of 2 units.
    #[arg(long = "fs-disk", value_name = "FILE|N", value_parser = parse_disk)]
    pub fs_disk: Option<DiskSpec>,
    /// Scratch disk (default: temporary, sized for the put and get files).
    #[arg(long = "scratch-disk", value_name = "FILE|N", value_parser = parse_disk)]
    pub scratch_disk: Option<DiskSpec>,
    /// Swap disk: an image file or a size N. Default: ./swap.dsk if it exists.
    #[arg(long = "swap-disk", value_name = "FILE|N", value_parser = parse_disk)]
    pub swap_disk: Option<DiskSpec>,
    /// Copy HOST into the guest file system as GUEST (repeatable).
    #[arg(short = 'p', long = "put-file", value_name = "HOST[:GUEST]", value_parser = parse_put)]
    pub put: Vec<PutFile>,
    /// Copy GUEST out of the guest file system to HOST after the run (repeatable).
    #[arg(short = 'g', long = "get-file", value_name = "GUEST[:HOST]", value_parser = parse_get)]
    pub get: Vec<GetFile>,
    /// Mount table file (accepted for compatibility; unused).
    #[arg(long = "mnts", value_name = "FILE")]
    pub mnts: Option<PathBuf>,
    /// Wait for a gdb connection before running (like QEMU's -s -S).
    #[arg(long = "gdb")]
    pub gdb: bool,
    /// TCP port for --gdb on localhost (0: any free port, printed on stderr).
    #[arg(long = "gdb-port", value_name = "N", default_value_t = 1234)]
    pub gdb_port: u16,
    /// Pass -threads-tests to the kernel.
    #[arg(short = 't', long = "threads-tests")]
    pub threads_tests: bool,
    /// Virtual clock rate: instructions per virtual second. The default is QEMU's pace
    /// on the KAIST tests, so time slices and timeouts mean what they mean under QEMU.
    /// Lower it to shorten time slices (more timer interrupts per instruction) and shake
    /// out kernel races.
    #[arg(long = "rate", value_name = "IPS", default_value_t = DEFAULT_RATE, value_parser = clap::value_parser!(u64).range(1000..))]
    pub rate: u64,
    /// Virtual nanoseconds each disk command takes before its first sector moves (seek
    /// and command overhead; the default is QEMU's, measured, see the emulator README).
    /// 0 makes the disk instant, instruction for instruction as before disks took time,
    /// unless --disk-sector-time is also given.
    #[arg(long = "disk-latency", value_name = "NS")]
    pub disk_latency: Option<u64>,
    /// Virtual nanoseconds per sector moved to or from the medium.
    #[arg(long = "disk-sector-time", value_name = "NS")]
    pub disk_sector_time: Option<u64>,
    /// Exit with a status that tells how the guest ended (3 triple fault, 4 halted,
    /// 5 reset, 124 timeout, 1 missing get file). Without it, like the KAIST utility, every
    /// guest outcome exits 0 so that `make check` goes on to the next test.
    #[arg(long = "exit-status")]
    pub exit_status: bool,
    /// Print run figures on stderr at the end: instructions executed, virtual time (busy
    /// and halted), host time and MIPS, interrupts, exceptions, disk traffic.
    #[arg(long = "stats")]
    pub stats: bool,
    /// Execute busy-wait loops (timer calibration, short delays) one instruction at a time
    /// instead of skipping their iterations arithmetically. The run is identical either
    /// way, only slower; this is for checking exactly that.
    #[arg(long = "no-spin-skip")]
    pub no_spin_skip: bool,
    /// Real-time clock at power-on, in Unix seconds (the RTC then advances with virtual
    /// time). Default: 2026-01-01T00:00:00Z.
    #[arg(long = "epoch", value_name = "UNIX_SECONDS", default_value_t = crate::machine::DEFAULT_EPOCH)]
    pub epoch: u64,
    /// Accepted for compatibility with the Pintos Makefiles; ignored.
    #[arg(long = "qemu", hide = true)]
    pub qemu: bool,
    #[arg(long = "bochs", hide = true)]
    pub bochs: bool,
    /// Perturb timing deterministically from SEED: timer interrupts and disk completions
    /// land at other instructions, so threads interleave differently (a race shows under
    /// some seeds); the same seed always gives the same run. Stored by --record.
    #[arg(short = 'j', long = "jitter", value_name = "SEED")]
    pub jitter: Option<u64>,
    /// Record the run into a replay file: the options, a hash of every disk at power-on,
    /// the console input, and at the end the instruction count and hashes of the console
    /// output and of every hardware event. `pintos replay FILE` runs it again and checks
    /// that everything comes out the same.
    #[arg(long = "record", value_name = "FILE")]
    pub record: Option<std::path::PathBuf>,
    #[arg(short = 'r', long = "realtime", hide = true)]
    pub realtime: bool,
    /// Bytes the guest receives on COM1, queued before the run starts (the `pintos`
    /// command fills it from stdin when stdin is not a terminal; see `bin/pintos.rs`).
    #[arg(skip)]
    pub console_input: Vec<u8>,
    /// The kernel command line (after `--`).
    #[arg(last = true, value_name = "KERNEL ARGS")]
    pub kernel_args: Vec<String>,
}

/// The drop-in's default clock rate: 400 M instructions per virtual second, the pace at
/// which QEMU (TCG, the emulator the KAIST tests and their timeouts were written for) runs
/// them. Measured on the KAIST project-3 tests as our instruction count for a test against
/// QEMU's busy timer ticks for it, after the fixed boot cost (see the emulator README,
/// "The clock rate"). The machine itself defaults to one instruction per nanosecond
/// ([`crate::machine::DEFAULT_RATE`]).
pub const DEFAULT_RATE: u64 = 400_000_000;

impl Options {
    /// The disk timing the options ask for.
    pub fn disk_timing(&self) -> crate::devices::ide::DiskTiming {
        let default = crate::devices::ide::DiskTiming::DEFAULT;
        let command_ns = self.disk_latency.unwrap_or(default.command_ns);
        // `--disk-latency 0` alone means an instant disk, not a zero-seek one.
        let sector_ns = match (self.disk_latency, self.disk_sector_time) {
            (_, Some(ns)) => ns,
            (Some(0), None) => 0,
            _ => default.sector_ns,
        };
        crate::devices::ide::DiskTiming { command_ns, sector_ns }
    }
}

/// Builds the kernel's argument list as the KAIST utility does: leading options first,
/// then `put NAME` for every put file, then the rest (`run ...`).
pub fn kernel_argv(opts: &Options) -> Vec<String> {
    let split = opts.kernel_args.iter().position(|a| !a.starts_with('-')).unwrap_or(opts.kernel_args.len());
    let mut argv: Vec<String> = opts.kernel_args[..split].to_vec();
    if opts.threads_tests && !argv.iter().any(|a| a == "-threads-tests") {
        argv.push("-threads-tests".into());
    }
    for p in &opts.put {
        argv.push("put".into());
        argv.push(p.guest.clone());
    }
    argv.extend(opts.kernel_args[split..].iter().cloned());
    for g in &opts.get {
        argv.push("get".into());
        argv.push(g.guest.clone());
    }
    argv
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Options {
        Options::try_parse_from(std::iter::once("pintos").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn kaist_make_check_command_line_parses() {
        let o = parse(&["-v", "-k", "-T", "60", "-m", "20", "--fs-disk=10", "-p", "tests/userprog/args-many:args-many", "--swap-disk=4", "--", "-q", "-f", "run", "args-many a b c"]);
        assert!(o.no_vga && o.kill_on_failure);
        assert_eq!(o.timeout, Some(60));
        assert_eq!(o.memory, 20);
        assert_eq!(o.fs_disk, Some(DiskSpec::Size(10)));
        assert_eq!(o.swap_disk, Some(DiskSpec::Size(4)));
        assert_eq!(o.put, vec![PutFile { host: "tests/userprog/args-many".into(), guest: "args-many".into() }]);
        assert_eq!(kernel_argv(&o), ["-q", "-f", "put", "args-many", "run", "args-many a b c"]);
    }

    #[test]
    fn put_defaults_guest_to_base_name() {
        let o = parse(&["-p", "a/b/echo", "--", "run", "echo"]);
        assert_eq!(o.put[0].guest, "echo");
    }

    #[test]
    fn get_files_come_after_run() {
        let o = parse(&["-g", "out.txt", "--", "-q", "run", "x"]);
        assert_eq!(kernel_argv(&o), ["-q", "run", "x", "get", "out.txt"]);
    }

    #[test]
    fn bad_options_are_errors() {
        assert!(Options::try_parse_from(["pintos", "-m", "abc"]).is_err());
        assert!(Options::try_parse_from(["pintos", "-m", "0"]).is_err());
        assert!(Options::try_parse_from(["pintos", "--bogus"]).is_err());
        assert!(Options::try_parse_from(["pintos", "-p", ":x"]).is_err());
        assert!(Options::try_parse_from(["pintos", "-p", "x:fifteen-chars-x"]).is_err());
    }

    #[test]
    fn epoch_defaults_and_can_be_set() {
        assert_eq!(parse(&[]).epoch, crate::machine::DEFAULT_EPOCH);
        assert_eq!(parse(&["--epoch", "0"]).epoch, 0);
        assert!(Options::try_parse_from(["pintos", "--epoch", "-5"]).is_err());
    }

    #[test]
    fn rate_defaults_to_qemus_pace() {
        assert_eq!(parse(&[]).rate, DEFAULT_RATE);
        assert_eq!(parse(&["--rate", "1000000000"]).rate, 1_000_000_000);
        assert!(Options::try_parse_from(["pintos", "--rate", "999"]).is_err());
    }

    #[test]
    fn disk_timing_defaults_and_options() {
        use crate::devices::ide::DiskTiming;
        assert_eq!(parse(&[]).disk_timing(), DiskTiming::DEFAULT);
        assert_eq!(parse(&["--disk-latency", "0"]).disk_timing(), DiskTiming::INSTANT);
        assert_eq!(parse(&["--disk-latency", "1000000"]).disk_timing(), DiskTiming { command_ns: 1_000_000, sector_ns: DiskTiming::DEFAULT.sector_ns });
        assert_eq!(parse(&["--disk-latency", "0", "--disk-sector-time", "5"]).disk_timing(), DiskTiming { command_ns: 0, sector_ns: 5 });
        assert!(Options::try_parse_from(["pintos", "--disk-latency", "-1"]).is_err());
        assert!(Options::try_parse_from(["pintos", "--disk-latency", "fast"]).is_err());
    }

    #[test]
    fn threads_tests_flag_reaches_the_kernel() {
        let o = parse(&["-t", "--", "-q", "run", "alarm-single"]);
        assert_eq!(kernel_argv(&o), ["-q", "-threads-tests", "run", "alarm-single"]);
    }
}
