//! Recording a run and replaying it: `pintos --record FILE ...` and `pintos replay FILE`.
//!
//! A run is a function of its inputs: the options, the disks at power-on and the bytes on
//! the serial line (queued before the run starts). The replay file keeps the options and
//! the console input, a hash of every disk at power-on (a changed disk is refused, not
//! replayed into nonsense), and what the run gave: the instruction count and hashes of the
//! console output and of every hardware event ([`crate::observe`]), with a checkpoint
//! every [`CHECKPOINT_EVERY`] events so a replay that goes another way says where.
//!
//! The file is text, one record per line:
//!
//! ```text
//! pintos-replay 1
//! arg 2d71                          each command-line argument, hex-encoded
//! disk hd0:0 <hash> <sectors>      every disk at power-on
//! input <icount> <hex bytes>       serial input, with when it arrived
//! jitter none | <seed>
//! rate <instructions per virtual second>
//! checkpoint <events> <icount> <hash>
//! end <instructions> <console hash> <event hash> <events>
//! ```

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use clap::Parser;

use super::{prepare, run_prepared, Options, Prepared, RunReport};
use crate::bus::CpuEvent;
use crate::memory::PhysMemory;
use crate::observe::{downcast, Event, Observer};

/// The replay file format's version.
pub const VERSION: u32 = 1;
/// Events between checkpoints.
pub const CHECKPOINT_EVERY: u64 = 4096;

use crate::observe::{fold64 as fold, HASH_START};

/// What a recording holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recording {
    /// The command line after the program name (without `--record`).
    pub args: Vec<String>,
    /// Each attached disk at power-on: (position `hdC:D`, content hash, sectors).
    pub disks: Vec<(String, u64, u64)>,
    /// Serial input: (instruction count it arrived at, bytes).
    pub input: Vec<(u64, Vec<u8>)>,
    pub jitter: Option<u64>,
    pub rate: u64,
    /// (events so far, instruction count, event hash so far), every CHECKPOINT_EVERY.
    pub checkpoints: Vec<(u64, u64, u64)>,
    pub instructions: u64,
    pub console_hash: u64,
    pub event_hash: u64,
    pub events: u64,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

impl Recording {
    pub fn to_text(&self) -> String {
        let mut s = format!("pintos-replay {VERSION}\n");
        for a in &self.args {
            s += &format!("arg {}\n", hex(a.as_bytes()));
        }
        for (pos, hash, sectors) in &self.disks {
            s += &format!("disk {pos} {hash:016x} {sectors}\n");
        }
        for (at, bytes) in &self.input {
            s += &format!("input {at} {}\n", hex(bytes));
        }
        s += &match self.jitter {
            Some(seed) => format!("jitter {seed}\n"),
            None => "jitter none\n".into(),
        };
        s += &format!("rate {}\n", self.rate);
        for (n, at, h) in &self.checkpoints {
            s += &format!("checkpoint {n} {at} {h:016x}\n");
        }
        s += &format!("end {} {:016x} {:016x} {}\n", self.instructions, self.console_hash, self.event_hash, self.events);
        s
    }

    /// Parses a replay file; every malformed line is an error naming it.
    pub fn parse(text: &str) -> Result<Recording> {
        let mut lines = text.lines().enumerate();
        match lines.next() {
            Some((_, l)) if l == format!("pintos-replay {VERSION}") => {}
            Some((_, l)) if l.starts_with("pintos-replay ") => bail!("replay file format {} is not supported (this pintos reads version {VERSION})", &l[14..]),
            _ => bail!("not a replay file (no `pintos-replay {VERSION}` header)"),
        }
        let mut r = Recording { args: vec![], disks: vec![], input: vec![], jitter: None, rate: 0, checkpoints: vec![], instructions: 0, console_hash: 0, event_hash: 0, events: 0 };
        let mut ended = false;
        for (i, line) in lines {
            let bad = || anyhow::anyhow!("replay file line {}: malformed `{}`", i + 1, line.chars().take(60).collect::<String>());
            let f: Vec<&str> = line.split(' ').collect();
            let num = |s: &str| s.parse::<u64>().map_err(|_| bad());
            let hash = |s: &str| u64::from_str_radix(s, 16).map_err(|_| bad());
            if ended {
                return Err(bad());
            }
            match f.as_slice() {
                ["arg", a] => r.args.push(String::from_utf8(unhex(a).ok_or_else(bad)?).map_err(|_| bad())?),
                ["arg"] => r.args.push(String::new()),
                ["disk", pos, h, n] => r.disks.push((pos.to_string(), hash(h)?, num(n)?)),
                ["input", at, bytes] => r.input.push((num(at)?, unhex(bytes).ok_or_else(bad)?)),
                ["jitter", "none"] => r.jitter = None,
                ["jitter", seed] => r.jitter = Some(num(seed)?),
                ["rate", n] => r.rate = num(n)?,
                ["checkpoint", n, at, h] => r.checkpoints.push((num(n)?, num(at)?, hash(h)?)),
                ["end", n, c, e, k] => {
                    (r.instructions, r.console_hash, r.event_hash, r.events) = (num(n)?, hash(c)?, hash(e)?, num(k)?);
                    ended = true;
                }
                _ => return Err(bad()),
            }
        }
        if !ended {
            bail!("replay file is truncated: it has no `end` line (the recorded run did not finish writing it)");
        }
        Ok(r)
    }
}

/// Folds every hardware event into one hash, with checkpoints; on a replay, compares each
/// checkpoint with the recording's as it goes and remembers the first that differs.
#[derive(Debug, Default)]
pub struct EventHasher {
    pub hash: u64,
    pub events: u64,
    pub checkpoints: Vec<(u64, u64, u64)>,
    /// The recording's checkpoints, on a replay.
    expect: Vec<(u64, u64, u64)>,
    /// (events, icount) of the last checkpoint that matched, and of the first that did not.
    pub agreed: Option<(u64, u64)>,
    pub diverged: Option<(u64, u64)>,
}

impl EventHasher {
    fn new(expect: Vec<(u64, u64, u64)>) -> EventHasher {
        EventHasher { hash: HASH_START, expect, ..EventHasher::default() }
    }

    fn cpu(h: u64, e: &CpuEvent) -> u64 {
        match *e {
            CpuEvent::Exception { vector, error_code, rip, address, cpl, cr3, rsp } => [1, vector as u64, error_code.map_or(u64::MAX, u64::from), rip, address, cpl as u64, cr3, rsp].into_iter().fold(h, fold),
            CpuEvent::Interrupt { vector, rip } => [2, vector as u64, rip].into_iter().fold(h, fold),
            CpuEvent::Cr3Load { value } => fold(fold(h, 3), value),
            CpuEvent::Invlpg { address } => fold(fold(h, 4), address),
            CpuEvent::Syscall { number, rip, args, rsp } => [5, number, rip, rsp].into_iter().chain(args).fold(h, fold),
            CpuEvent::UserEntry { rip, rsp, rax } => [6, rip, rsp, rax].into_iter().fold(h, fold),
            CpuEvent::SoftwareInterrupt { vector, rip, rax } => [7, vector as u64, rip, rax].into_iter().fold(h, fold),
            CpuEvent::PortOut { port, size, value } => [8, port as u64, size as u64, value as u64].into_iter().fold(h, fold),
            CpuEvent::TripleFault => fold(h, 9),
        }
    }
}

impl Observer for EventHasher {
    fn event(&mut self, icount: u64, event: Event<'_>, _mem: Option<&PhysMemory>) {
        let h = fold(self.hash, icount);
        self.hash = match event {
            Event::Cpu(e) => Self::cpu(h, e),
            Event::Disk(d) => [10, d.role as u64, d.lba, d.write as u64].into_iter().chain(d.hashes.iter().copied()).fold(h, fold),
            // A claim is the port writes already folded in.
            Event::Claim { .. } => return,
            Event::PowerOff => fold(h, 11),
        };
        self.events += 1;
        if self.events.is_multiple_of(CHECKPOINT_EVERY) {
            let cp = (self.events, icount, self.hash);
            if let Some(want) = self.expect.get(self.checkpoints.len()) {
                if self.diverged.is_none() {
                    if *want == cp {
                        self.agreed = Some((cp.0, cp.1));
                    } else {
                        self.diverged = Some((cp.0, cp.1));
                    }
                }
            }
            self.checkpoints.push(cp);
        }
    }
}

/// Every attached disk's position, content hash and size, at power-on.
fn disk_hashes(prepared: &mut Prepared) -> Result<Vec<(String, u64, u64)>> {
    let mut out = Vec::new();
    for (c, row) in prepared.config.disks.iter_mut().enumerate() {
        for (d, disk) in row.iter_mut().enumerate() {
            let Some(disk) = disk else { continue };
            let mut h = HASH_START;
            let mut sector = [0u8; 512];
            for lba in 0..disk.sectors() {
                disk.read_sector(lba, &mut sector).with_context(|| format!("reading disk hd{c}:{d}"))?;
                h = fold(h, crate::observe::hash64(&sector));
            }
            out.push((format!("hd{c}:{d}"), h, disk.sectors()));
        }
    }
    Ok(out)
}

/// Hashes what passes through to the console.
struct Tee<'a> {
    out: &'a mut dyn Write,
    hash: u64,
}

impl Write for Tee<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for &b in buf {
            self.hash = fold(self.hash, b as u64);
        }
        self.out.write_all(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// The command line as recorded: everything but `--record FILE`.
fn recorded_args() -> Vec<String> {
    let mut args = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        if a == "--record" {
            it.next();
        } else if !a.starts_with("--record=") {
            args.push(a);
        }
    }
    args
}

/// Runs `opts` and writes the recording to `path`.
pub fn record(opts: &Options, out: &mut dyn Write, path: &Path) -> Result<RunReport> {
    record_args(opts, recorded_args(), out, path)
}

/// [`record`] with the command line to store given (tests call this).
pub fn record_args(opts: &Options, args: Vec<String>, out: &mut dyn Write, path: &Path) -> Result<RunReport> {
    let mut prepared = prepare(opts)?;
    let disks = disk_hashes(&mut prepared)?;
    let mut tee = Tee { out, hash: HASH_START };
    let (report, observer) = run_prepared(opts, prepared, &mut tee, Some(Box::new(EventHasher::new(vec![]))))?;
    let hasher = observer.and_then(downcast::<EventHasher>).context("the event hasher vanished")?;
    let rec = Recording {
        args,
        disks,
        input: if opts.console_input.is_empty() { vec![] } else { vec![(0, opts.console_input.clone())] },
        jitter: opts.jitter,
        rate: opts.rate,
        checkpoints: hasher.checkpoints,
        instructions: report.figures.instructions,
        console_hash: tee.hash,
        event_hash: hasher.hash,
        events: hasher.events,
    };
    std::fs::write(path, rec.to_text()).with_context(|| format!("writing the replay file {}", path.display()))?;
    Ok(report)
}

/// How a replay ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Verified { instructions: u64 },
    /// The runs went different ways: a one-line account.
    Diverged(String),
}

/// Reads the recording in `path` and sets its run up: the options, and the machine
/// configuration after checking every disk is the one the run started with.
fn load(path: &Path) -> Result<(Recording, Options, Prepared)> {
    let text = std::fs::read(path).with_context(|| format!("reading the replay file {}", path.display()))?;
    let text = String::from_utf8(text).map_err(|_| anyhow::anyhow!("{} is not a replay file (not text)", path.display()))?;
    let rec = Recording::parse(&text).with_context(|| format!("{}", path.display()))?;
    let mut opts = Options::try_parse_from(std::iter::once("pintos".to_string()).chain(rec.args.iter().cloned())).map_err(|e| anyhow::anyhow!("the recorded command line no longer parses: {}", e.to_string().lines().next().unwrap_or("")))?;
    opts.record = None;
    opts.console_input = rec.input.iter().flat_map(|(_, b)| b.iter().copied()).collect();
    let mut prepared = prepare(&opts)?;
    let disks = disk_hashes(&mut prepared)?;
    for (pos, hash, sectors) in &rec.disks {
        match disks.iter().find(|d| &d.0 == pos) {
            None => bail!("disk {pos} was attached when the run was recorded but is missing now: refusing to replay"),
            Some((_, h, n)) if h != hash || n != sectors => bail!("disk {pos} has changed since the run was recorded ({n} sectors, hash {h:016x}; recorded {sectors} sectors, hash {hash:016x}): refusing to replay. A run that writes to a disk image file changes it; record with a temporary disk (`--fs-disk=N`) or a copy"),
            Some(_) => {}
        }
    }
    if let Some((pos, ..)) = disks.iter().find(|d| !rec.disks.iter().any(|r| r.0 == d.0)) {
        bail!("disk {pos} is attached now but was not when the run was recorded: refusing to replay");
    }
    Ok((rec, opts, prepared))
}

/// Replays the recording in `path`, streaming the console to `out`.
pub fn replay(path: &Path, out: &mut dyn Write) -> Result<Verdict> {
    let (rec, opts, prepared) = load(path)?;
    let mut tee = Tee { out, hash: HASH_START };
    let (report, observer) = run_prepared(&opts, prepared, &mut tee, Some(Box::new(EventHasher::new(rec.checkpoints.clone()))))?;
    let h = observer.and_then(downcast::<EventHasher>).context("the event hasher vanished")?;
    let n = report.figures.instructions;
    if let Some((events, at)) = h.diverged {
        let since = h.agreed.map_or("from the start".to_string(), |(e, i)| format!("after agreeing up to event {e} (instruction {i})"));
        return Ok(Verdict::Diverged(format!("the runs diverged {since}: event {events} (instruction {at}) differs")));
    }
    if (h.hash, h.events, n) != (rec.event_hash, rec.events, rec.instructions) {
        let since = h.agreed.map_or("from the start".to_string(), |(e, i)| format!("after agreeing up to event {e} (instruction {i})"));
        return Ok(Verdict::Diverged(format!("the runs diverged {since}: this run gave {} events and {n} instructions, the recording {} events and {} instructions", h.events, rec.events, rec.instructions)));
    }
    if tee.hash != rec.console_hash {
        return Ok(Verdict::Diverged("the console output differs (every hardware event was the same)".into()));
    }
    Ok(Verdict::Verified { instructions: n })
}

/// Time travel without gdb: replays the recording in `path` up to instruction `n` (the
/// console goes to `out`) and describes the machine there: registers, the instruction at
/// RIP, and the call stack by frame pointers, named from the kernel's ELF when it is next
/// to the os.dsk.
pub fn state_at(path: &Path, n: u64, out: &mut dyn Write) -> Result<String> {
    let (rec, opts, prepared) = load(path)?;
    if n > rec.instructions {
        bail!("the recorded run retired {} instructions; there is no instruction {n}", rec.instructions);
    }
    let elf = super::backtrace::kernel_elf(&super::os_disk_path(&opts));
    let mut m = super::build_machine(&opts, prepared, None)?;
    let limits = crate::machine::Limits { instructions: Some(n), ..Default::default() };
    let outcome = m.run(limits, |b| out.write_all(b).is_ok());
    let _ = out.flush();
    if m.cpu.icount != n {
        bail!("the replay stopped at instruction {} ({outcome:?}) before reaching {n}", m.cpu.icount);
    }
    Ok(describe(&m, elf.as_deref()))
}

/// The recorded run at its first instruction, on the verified disks (copy-on-write: a
/// replay never changes them), ready to move through in both directions; with the path
/// of the kernel's ELF when it is next to the os.dsk.
pub fn time_travel(path: &Path, interval: u64) -> Result<(super::timetravel::TimeTravel, Option<std::path::PathBuf>)> {
    let (_, opts, prepared) = load(path)?;
    let elf = super::backtrace::kernel_elf(&super::os_disk_path(&opts));
    let m = super::build_machine(&opts, prepared, None)?;
    Ok((super::timetravel::TimeTravel::replay(m, opts.timeout.map(std::time::Duration::from_secs), interval)?, elf))
}

/// `pintos replay FILE --gdb[=PORT]`: the recorded run under the gdb stub, from its
/// first instruction: forward and reverse execution, breakpoints and watchpoints.
pub fn gdb(path: &Path, port: u16, out: &mut dyn Write) -> Result<crate::machine::Outcome> {
    let (mut tt, elf) = time_travel(path, super::timetravel::DEFAULT_INTERVAL)?;
    if let Some(elf) = elf {
        eprintln!("pintos: the kernel's symbols and source lines: gdb {}", elf.display());
    }
    super::gdb::serve(&mut tt, port, out)
}

/// What `pintos replay FILE --until EVENT` stops at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Until {
    /// The first page fault on the page holding this address.
    PageFault(u64),
    /// The first instruction that writes this (linear) address; the state shown is just
    /// before it executes.
    Write(u64),
    /// [`Until::Write`] to a symbol of the kernel's ELF (found next to the os.dsk).
    WriteSymbol(String),
    /// The first kernel panic message on the console (`Kernel PANIC`).
    Panic,
}

impl std::str::FromStr for Until {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Until, String> {
        let num = |v: &str| u64::from_str_radix(v.trim_start_matches("0x"), 16).map_err(|_| format!("`{v}` is not a hex address"));
        match s.split_once(':') {
            _ if s == "panic" => Ok(Until::Panic),
            Some(("pf" | "page-fault", a)) => Ok(Until::PageFault(num(a)?)),
            Some(("write" | "w", a)) if a.starts_with("0x") || a.bytes().all(|b| b.is_ascii_hexdigit()) => Ok(Until::Write(num(a)?)),
            Some(("write" | "w", sym)) if !sym.is_empty() => Ok(Until::WriteSymbol(sym.to_string())),
            _ => Err(format!("unknown event `{s}` (pf:ADDR, write:ADDR, write:SYMBOL or panic)")),
        }
    }
}

/// Finds the instruction count of the first `until` event.
struct Finder {
    until: Until,
    found: Option<u64>,
    /// COM1 output so far (for `panic`), with the count of each byte's `out`.
    console: Vec<(u8, u64)>,
}

impl Observer for Finder {
    fn event(&mut self, icount: u64, event: Event<'_>, _mem: Option<&PhysMemory>) {
        if self.found.is_some() {
            return;
        }
        match (&self.until, event) {
            (Until::PageFault(a), Event::Cpu(CpuEvent::Exception { vector: 14, address, .. })) if address >> 12 == a >> 12 => self.found = Some(icount),
            (Until::Write(_) | Until::WriteSymbol(_), _) => {}
            (Until::Panic, Event::Cpu(CpuEvent::PortOut { port: 0x3f8, value, .. })) => {
                self.console.push((*value as u8, icount));
                const MARK: &[u8] = b"Kernel PANIC";
                if self.console.len() >= MARK.len() && self.console[self.console.len() - MARK.len()..].iter().map(|c| c.0).eq(MARK.iter().copied()) {
                    self.found = Some(self.console[self.console.len() - MARK.len()].1);
                }
                if self.console.len() > 64 {
                    self.console.drain(..32);
                }
            }
            _ => {}
        }
    }
}

/// `pintos replay FILE --until write:ADDR`: the machine just before the first instruction
/// that writes linear address `addr` (a watchpoint, then one step back), described as
/// `--at` does; None if nothing writes it.
pub fn until_write(path: &Path, target: &Until, out: &mut dyn Write) -> Result<Option<String>> {
    use super::timetravel::Stop;
    let (mut tt, elf) = time_travel(path, super::timetravel::DEFAULT_INTERVAL)?;
    let addr = match target {
        Until::Write(a) => *a,
        Until::WriteSymbol(name) => {
            let elf = elf.as_deref().with_context(|| format!("write:{name} needs the kernel's ELF (kernel.elf or kernel.o next to the os.dsk)"))?;
            super::backtrace::symbol_address(elf, name).map_err(|e| anyhow::anyhow!(e))?
        }
        _ => bail!("until_write takes write:ADDR or write:SYMBOL"),
    };
    tt.machine.cpu.add_watch(crate::cpu::debug::Watch { addr, len: 1, kind: crate::cpu::debug::WatchKind::Write });
    match tt.cont(out, &mut || false) {
        Stop::Watch(hit) => {
            tt.machine.cpu.clear_debug();
            tt.step_back(out);
            let _ = out.flush();
            let how = format!("instruction {} writes {:#x} (watched {:#x}):\n", tt.machine.cpu.icount, hit.address, addr);
            Ok(Some(how + &describe(&tt.machine, elf.as_deref())))
        }
        _ => Ok(None),
    }
}

/// `pintos replay FILE --until EVENT`: the instruction count of the first such event in
/// the recording, if it happens.
pub fn find(path: &Path, until: Until) -> Result<Option<u64>> {
    let (_, opts, prepared) = load(path)?;
    let (_, observer) = run_prepared(&opts, prepared, &mut std::io::sink(), Some(Box::new(Finder { until, found: None, console: vec![] })))?;
    Ok(observer.and_then(downcast::<Finder>).and_then(|f| f.found))
}

/// Registers, the instruction at RIP and the frame-pointer call stack of `m`.
fn describe(m: &crate::machine::Machine, elf: Option<&Path>) -> String {
    use crate::mmu::inspect;
    let cpu = &m.cpu;
    let cr3 = cpu.cr3;
    let mut s = format!("at instruction {}:\n{}", cpu.icount, cpu.dump());
    // Reads through the current page tables without touching A/D bits.
    let read = |va: u64, buf: &mut [u8]| -> bool {
        buf.iter_mut().enumerate().all(|(i, b)| {
            let a = va.wrapping_add(i as u64);
            match inspect::lookup(&m.cpu.mem, cr3, a) {
                Some(p) => {
                    let mut one = [0u8];
                    let ok = m.cpu.mem.read(p.frame | (a & 0xfff), &mut one).is_ok();
                    *b = one[0];
                    ok
                }
                None => false,
            }
        })
    };
    let rip = cpu.rip;
    let mut code = [0u8; 15];
    if read(rip, &mut code) {
        let mut d = iced_x86::Decoder::with_ip(64, &code, rip, iced_x86::DecoderOptions::NONE);
        let ins = d.decode();
        let mut text = String::new();
        let mut f = iced_x86::FastFormatter::new();
        f.format(&ins, &mut text);
        s += &format!("next instruction: {rip:#x}: {text}\n");
    } else {
        s += &format!("next instruction: {rip:#x}: (not mapped)\n");
    }
    // The frame-pointer chain: [rbp] = caller's rbp, [rbp + 8] = return address.
    let mut addrs = vec![rip];
    let mut rbp = cpu.gpr[crate::cpu::reg::RBP as usize];
    for _ in 0..32 {
        let mut w = [0u8; 16];
        if rbp == 0 || !read(rbp, &mut w) {
            break;
        }
        let (next, ret) = (u64::from_le_bytes(w[..8].try_into().unwrap()), u64::from_le_bytes(w[8..].try_into().unwrap()));
        if ret == 0 {
            break;
        }
        addrs.push(ret);
        if next <= rbp {
            break;
        }
        rbp = next;
    }
    s += "call stack (frame pointers):\n";
    let named = elf.and_then(|e| super::backtrace::symbolise(e, &addrs).ok());
    match named {
        // The first address is RIP itself, not a return address: name it as such.
        Some(lines) => lines.iter().for_each(|l| s += &format!("  {l}\n")),
        None => addrs.iter().for_each(|a| s += &format!("  {a:#x}\n")),
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Recording {
        Recording {
            args: vec!["-q".into(), "run 'args-many a b'".into(), String::new()],
            disks: vec![("hd0:0".into(), 0x1234, 100), ("hd0:1".into(), 7, 4032)],
            input: vec![(0, b"hi\n".to_vec())],
            jitter: Some(42),
            rate: 400_000_000,
            checkpoints: vec![(4096, 123_456, 0xabc)],
            instructions: 9_999_999,
            console_hash: 0xdead_beef,
            event_hash: 0xfeed,
            events: 5000,
        }
    }

    #[test]
    fn text_round_trips() {
        let r = sample();
        assert_eq!(Recording::parse(&r.to_text()).unwrap(), r);
    }

    #[test]
    fn truncated_corrupted_and_foreign_files_are_refused() {
        let text = sample().to_text();
        let cut = &text[..text.find("end ").unwrap()];
        assert!(Recording::parse(cut).unwrap_err().to_string().contains("truncated"));
        let bad = text.replace("rate 400000000", "rate four");
        assert!(Recording::parse(&bad).unwrap_err().to_string().contains("malformed `rate four`"));
        assert!(Recording::parse("hello\n").unwrap_err().to_string().contains("not a replay file"));
        assert!(Recording::parse("pintos-replay 9\n").unwrap_err().to_string().contains("format 9 is not supported"));
        let after = format!("{text}arg 2d71\n");
        assert!(Recording::parse(&after).is_err(), "nothing may follow the end line");
    }
}
