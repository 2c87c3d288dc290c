//! `--trace`: a test's hardware timeline in the Chrome trace-event format (a JSON object
//! with `traceEvents`), which Perfetto (ui.perfetto.dev, "Open trace file") and
//! chrome://tracing open.
//!
//! One process (the machine) with a track per kind of event:
//!
//! - `address space (CR3)`: one complete event per span from a CR3 load to the next load
//!   of another value, named by the value (`cr3 0x10a000`): context switches between
//!   processes (and the kernel's own page table).
//! - `page faults`: an instant per page fault, `page fault 0x4747f000`, with CR2, the error
//!   code (and what it means: user/kernel, read/write/fetch, not-present/protection), RIP,
//!   CPL and CR3; other exceptions on `exceptions`.
//! - `system calls`: an instant per `syscall`, named by the Pintos-KAIST numbering
//!   (`write`, with the number, RIP and CR3).
//! - `interrupts`: an instant per external interrupt (`irq 0x20` is the timer), but the
//!   disks' (vectors 0x2e and 0x2f), which are the disk tracks' commands over again.
//! - `disk os`, `disk fs`, `disk scratch`, `disk swap`: a complete event per IDE command,
//!   `read fs 3 sectors @1234`, drawn from the instant its last sector moved, 1 µs wide per
//!   sector (cut short by the next command): the disk's own time is mostly time the CPU
//!   sat halted, which is not on this axis. Commands that continue the one before (same
//!   direction, next sector, within [`DISK_MERGE_GAP`] instructions) are one event,
//!   `write swap 8 sectors @0 (8 commands)`, so a page moved a sector at a time is one
//!   transfer. The swap disk's track is the swap traffic, and the `swap sectors` counter
//!   adds it up.
//! - `kernel claims`: an instant per claim the kernel made on the claims port
//!   (docs/claims.md), and a `frames` counter from its frame counts.
//! - power-off and a triple fault are global instants.
//!
//! Time: `ts` (microseconds) = instructions retired × 10⁶ / the run's clock rate, so the
//! axis is the CPU's work; time the CPU spent halted (waiting for a disk or a timer) is not
//! on it, and a run's axis ends before its `virtual_ns`. Each track keeps its first
//! [`TRACK_CAP`] events; `otherData.dropped` counts what was left out, per track.

use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use emulator::bus::CpuEvent;
use emulator::observe::{Claim, DiskRole, Recorder};
use serde::Serialize;
use serde_json::{json, Map, Value};

/// Events kept per track (a heavy test has a few hundred thousand events in all, so a
/// trace stays within some tens of MB).
pub const TRACK_CAP: usize = 100_000;

/// The IDE interrupts' vectors (IRQ 14 and 15 with the PICs at 0x20, as Pintos sets them).
const IDE_IRQ0: u8 = 0x2e;
const IDE_IRQ1: u8 = 0x2f;

/// The one process id: the machine.
const PID: u32 = 1;

/// The tracks, as (thread id, name), in display order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Track {
    AddressSpace,
    PageFaults,
    Exceptions,
    Syscalls,
    Interrupts,
    Disk(DiskRole),
    /// The swap disk's running totals (a counter: shown as its own track).
    SwapCounter,
    Claims,
    /// The kernel's frame counts from its claims (a counter).
    FrameCounter,
}

impl Track {
    fn all() -> Vec<Track> {
        let mut v = vec![Track::AddressSpace, Track::PageFaults, Track::Exceptions, Track::Syscalls, Track::Interrupts];
        v.extend(DiskRole::ALL.map(Track::Disk));
        v.push(Track::Claims);
        v
    }

    fn tid(self) -> u32 {
        match self {
            Track::AddressSpace => 1,
            Track::PageFaults => 2,
            Track::Exceptions => 3,
            Track::Syscalls => 4,
            Track::Interrupts => 5,
            Track::Disk(r) => 10 + r as u32,
            Track::SwapCounter => 14,
            Track::Claims => 20,
            Track::FrameCounter => 21,
        }
    }

    fn name(self) -> String {
        match self {
            Track::AddressSpace => "address space (CR3)".into(),
            Track::PageFaults => "page faults".into(),
            Track::Exceptions => "exceptions".into(),
            Track::Syscalls => "system calls".into(),
            Track::Interrupts => "interrupts".into(),
            Track::Disk(r) => format!("disk {}", r.name()),
            Track::SwapCounter => "swap sectors".into(),
            Track::Claims => "kernel claims".into(),
            Track::FrameCounter => "frames".into(),
        }
    }

    fn category(self) -> &'static str {
        match self {
            Track::AddressSpace => "cr3",
            Track::PageFaults | Track::Exceptions => "exception",
            Track::Syscalls => "syscall",
            Track::Interrupts => "interrupt",
            Track::Disk(_) | Track::SwapCounter => "disk",
            Track::Claims | Track::FrameCounter => "claim",
        }
    }
}

/// One trace event as the format spells it.
#[derive(Debug, Serialize)]
struct Ev {
    name: String,
    cat: &'static str,
    ph: &'static str,
    ts: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    dur: Option<f64>,
    pid: u32,
    tid: u32,
    /// Scope of an instant: `t` (its track) or `g` (global).
    #[serde(skip_serializing_if = "Option::is_none")]
    s: Option<&'static str>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    args: Map<String, Value>,
}

/// What a written trace holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub events: usize,
    /// Events left out, by track name.
    pub dropped: BTreeMap<String, usize>,
}

/// System call names by number, Pintos-KAIST's `lib/syscall-nr.h`.
pub fn syscall_name(number: u64) -> Option<&'static str> {
    const NAMES: [&str; 25] = [
        "halt", "exit", "fork", "exec", "wait", "create", "remove", "open", "filesize", "read", "write", "seek", "tell", "close", "mmap", "munmap", "chdir", "mkdir", "readdir", "isdir", "inumber", "symlink", "dup2", "mount", "umount",
    ];
    NAMES.get(number as usize).copied()
}

fn exception_name(vector: u8) -> &'static str {
    match vector {
        0 => "#DE divide error",
        1 => "#DB debug",
        3 => "#BP breakpoint",
        4 => "#OF overflow",
        5 => "#BR bound range",
        6 => "#UD invalid opcode",
        7 => "#NM device not available",
        8 => "#DF double fault",
        10 => "#TS invalid TSS",
        11 => "#NP segment not present",
        12 => "#SS stack fault",
        13 => "#GP general protection",
        14 => "#PF page fault",
        16 => "#MF x87 error",
        17 => "#AC alignment check",
        19 => "#XM SIMD error",
        _ => "exception",
    }
}

/// A page fault's error code in words: `user write, not present`.
pub fn page_fault_cause(code: u32) -> String {
    let who = if code & 4 != 0 { "user" } else { "kernel" };
    let what = if code & 16 != 0 {
        "fetch"
    } else if code & 2 != 0 {
        "write"
    } else {
        "read"
    };
    let why = if code & 1 != 0 { "protection" } else { "not present" };
    format!("{who} {what}, {why}")
}

fn hex(v: u64) -> Value {
    Value::String(format!("{v:#x}"))
}

fn args(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Builds the events, each track capped.
struct Builder {
    /// icount → microseconds.
    scale: f64,
    events: Vec<Ev>,
    kept: BTreeMap<Track, usize>,
    dropped: BTreeMap<String, usize>,
}

impl Builder {
    fn ts(&self, icount: u64) -> f64 {
        // Nanosecond precision is plenty and keeps the file small.
        (icount as f64 * self.scale * 1000.0).round() / 1000.0
    }

    /// The width of a span from `from` to just before `to` (instruction counts), in µs: 2 ns
    /// short of the next span on the track, so rounding to nanoseconds never makes two
    /// spans overlap (a viewer would nest them).
    fn until(&self, from: u64, to: u64) -> f64 {
        (((self.ts(to) - self.ts(from)) * 1000.0).round() / 1000.0 - 0.002).max(0.001)
    }

    /// Whether `track` has room for one more event (counting the drop if not).
    fn room(&mut self, track: Track) -> bool {
        let n = self.kept.entry(track).or_default();
        if *n >= TRACK_CAP {
            *self.dropped.entry(track.name()).or_default() += 1;
            return false;
        }
        *n += 1;
        true
    }

    fn instant(&mut self, track: Track, icount: u64, name: String, a: Value) {
        if self.room(track) {
            let ts = self.ts(icount);
            self.events.push(Ev { name, cat: track.category(), ph: "i", ts, dur: None, pid: PID, tid: track.tid(), s: Some("t"), args: args(a) });
        }
    }

    fn span(&mut self, track: Track, from: u64, dur_us: f64, name: String, a: Value) {
        if self.room(track) {
            let ts = self.ts(from);
            self.events.push(Ev { name, cat: track.category(), ph: "X", ts, dur: Some((dur_us * 1000.0).round() / 1000.0), pid: PID, tid: track.tid(), s: None, args: args(a) });
        }
    }

    fn counter(&mut self, track: Track, icount: u64, name: &str, a: Value) {
        if self.room(track) {
            let ts = self.ts(icount);
            self.events.push(Ev { name: name.into(), cat: track.category(), ph: "C", ts, dur: None, pid: PID, tid: track.tid(), s: None, args: args(a) });
        }
    }

    fn global(&mut self, icount: u64, name: &str) {
        let ts = self.ts(icount);
        self.events.push(Ev { name: name.into(), cat: "machine", ph: "i", ts, dur: None, pid: PID, tid: 0, s: Some("g"), args: Map::new() });
    }

    fn metadata(&mut self, name: &str, tid: u32, a: Value) {
        self.events.push(Ev { name: name.into(), cat: "__metadata", ph: "M", ts: 0.0, dur: None, pid: PID, tid, s: None, args: args(a) });
    }
}

fn claim_event(c: &Claim, cr3: u64) -> (String, Value) {
    let (name, mut a) = match *c {
        Claim::LazyLoad { va, offset, bytes } => (format!("lazy-load {va:#x}"), json!({"va": hex(va), "offset": offset.map(hex), "bytes": bytes})),
        Claim::SwapOut { va, slot } => (format!("swap-out {va:#x} → slot {slot}"), json!({"va": hex(va), "slot": slot})),
        Claim::SwapIn { slot, va } => (format!("swap-in slot {slot} → {va:#x}"), json!({"va": hex(va), "slot": slot})),
        Claim::StackGrowth { va } => (format!("stack-growth {va:#x}"), json!({"va": hex(va)})),
        Claim::CowCopy { va } => (format!("cow-copy {va:#x}"), json!({"va": hex(va)})),
        Claim::Evict { va, to_disk } => (format!("evict {va:#x}{}", if to_disk { " to disk" } else { "" }), json!({"va": hex(va), "to_disk": to_disk})),
        Claim::Frames { in_use, swap_free } => (format!("frames {in_use} in use, {swap_free} swap slots free"), json!({"in_use": in_use, "swap_free": swap_free})),
        Claim::AddressSpace { cr3 } => (format!("address-space {cr3:#x}"), json!({"space": hex(cr3)})),
    };
    a["cr3"] = hex(cr3);
    (name, a)
}

/// Disk commands that continue the one before on the same disk (same direction, the next
/// sector) within this many instructions of its completion are one event: a kernel that
/// moves a page as eight one-sector commands shows one 8-sector transfer, and the boot
/// loader's 700 polled one-sector reads (about 34 000 instructions apart at the default
/// disk timing, the polls included) show as one. 250 µs at the default rate.
pub const DISK_MERGE_GAP: u64 = 100_000;

/// Consecutive disk commands on one disk, drawn as one event.
struct DiskGroup {
    /// Completion of the first and the last command (instruction counts).
    first: u64,
    last: u64,
    lba: u64,
    sectors: u64,
    last_sectors: u64,
    commands: u64,
    write: bool,
}

fn disk_groups(rec: &Recorder, role: DiskRole) -> Vec<DiskGroup> {
    let mut groups: Vec<DiskGroup> = Vec::new();
    for (icount, d) in rec.disk.iter().filter(|(_, d)| d.role == role) {
        if let Some(g) = groups.last_mut() {
            if g.write == d.write && g.lba + g.sectors == d.lba && icount - g.last <= DISK_MERGE_GAP {
                g.last = *icount;
                g.sectors += d.count();
                g.last_sectors = d.count();
                g.commands += 1;
                continue;
            }
        }
        groups.push(DiskGroup { first: *icount, last: *icount, lba: d.lba, sectors: d.count(), last_sectors: d.count(), commands: 1, write: d.write });
    }
    groups
}

/// Writes the trace of one run to `out`: `test` is its path, `rate` its clock rate
/// (instructions per virtual second).
pub fn write_to(out: &mut impl Write, test: &str, rate: u64, rec: &Recorder) -> io::Result<Summary> {
    let rate = rate.max(1);
    let mut b = Builder { scale: 1e6 / rate as f64, events: Vec::new(), kept: BTreeMap::new(), dropped: BTreeMap::new() };
    let last = [rec.cpu.last().map(|e| e.0), rec.disk.last().map(|e| e.0), rec.claims.last().map(|e| e.0), rec.power_off].into_iter().flatten().max().unwrap_or(0);

    b.metadata("process_name", 0, json!({"name": format!("pintos {test}")}));
    for (i, t) in Track::all().into_iter().enumerate() {
        b.metadata("thread_name", t.tid(), json!({"name": t.name()}));
        b.metadata("thread_sort_index", t.tid(), json!({"sort_index": i}));
    }

    // Address-space spans: a reload of the same CR3 (a TLB flush) continues the span.
    let mut space: Option<(u64, u64)> = None;
    for (icount, e) in &rec.cpu {
        let icount = *icount;
        match *e {
            CpuEvent::Cr3Load { value, .. } => {
                if let Some((cr3, from)) = space {
                    if cr3 == value {
                        continue;
                    }
                    b.span(Track::AddressSpace, from, b.until(from, icount), format!("cr3 {cr3:#x}"), json!({"cr3": hex(cr3)}));
                }
                space = Some((value, icount));
            }
            CpuEvent::Exception { vector: 14, error_code, rip, address, cpl, cr3, rsp, .. } => {
                let code = error_code.unwrap_or(0);
                b.instant(Track::PageFaults, icount, format!("page fault {address:#x}"), json!({"cr2": hex(address), "error_code": hex(code as u64), "cause": page_fault_cause(code), "rip": hex(rip), "cpl": cpl, "cr3": hex(cr3), "rsp": hex(rsp)}));
            }
            CpuEvent::Exception { vector, error_code, rip, cpl, cr3, .. } => {
                b.instant(Track::Exceptions, icount, format!("{} ({vector})", exception_name(vector)), json!({"vector": vector, "error_code": error_code.map(|c| hex(c as u64)), "rip": hex(rip), "cpl": cpl, "cr3": hex(cr3)}));
            }
            CpuEvent::Syscall { number, rip, .. } => {
                let name = syscall_name(number).map_or_else(|| format!("syscall {number}"), str::to_string);
                let cr3 = space.map(|s| s.0).unwrap_or(0);
                b.instant(Track::Syscalls, icount, name, json!({"number": number, "rip": hex(rip), "cr3": hex(cr3)}));
            }
            // The IDE channels' interrupts (IRQ 14 and 15 as Pintos maps the PICs) are the
            // disk tracks' commands over again.
            CpuEvent::Interrupt { vector: IDE_IRQ0 | IDE_IRQ1, .. } => {}
            CpuEvent::Interrupt { vector, rip, .. } => b.instant(Track::Interrupts, icount, format!("irq {vector:#x}"), json!({"vector": vector, "rip": hex(rip)})),
            CpuEvent::TripleFault => b.global(icount, "triple fault"),
            // INVLPG, returns to user mode, port writes: not drawn.
            _ => {}
        }
    }
    if let Some((cr3, from)) = space {
        b.span(Track::AddressSpace, from, b.until(from, last), format!("cr3 {cr3:#x}"), json!({"cr3": hex(cr3)}));
    }

    // Disk commands, grouped (see `disk_groups`), each group drawn from its first
    // command's completion to its last's plus 1 µs per sector, cut at the next group.
    for role in DiskRole::ALL {
        let groups = disk_groups(rec, role);
        let (mut read, mut written) = (0u64, 0u64);
        for (i, g) in groups.iter().enumerate() {
            let width = (g.last - g.first) as f64 * b.scale + g.last_sectors as f64;
            let width = groups.get(i + 1).map_or(width, |n| width.min(b.until(g.first, n.first))).max(0.001);
            let verb = if g.write { "write" } else { "read" };
            let commands = if g.commands > 1 { format!(" ({} commands)", g.commands) } else { String::new() };
            let name = format!("{verb} {} {} sector{} @{}{commands}", role.name(), g.sectors, if g.sectors == 1 { "" } else { "s" }, g.lba);
            b.span(Track::Disk(role), g.first, width, name, json!({"lba": g.lba, "sectors": g.sectors, "commands": g.commands, "write": g.write}));
            if role == DiskRole::Swap {
                if g.write {
                    written += g.sectors;
                } else {
                    read += g.sectors;
                }
                b.counter(Track::SwapCounter, g.first, "swap sectors", json!({"read": read, "written": written}));
            }
        }
    }

    for (icount, claim, cr3) in &rec.claims {
        let (name, a) = claim_event(claim, *cr3);
        b.instant(Track::Claims, *icount, name, a);
        if let Claim::Frames { in_use, swap_free } = *claim {
            b.counter(Track::FrameCounter, *icount, "frames", json!({"in use": in_use, "swap slots free": swap_free}));
        }
    }
    if let Some(at) = rec.power_off {
        b.global(at, "power off");
    }

    // Metadata first, then by time (stable: same-time events keep their order).
    b.events.sort_by(|x, y| (x.ph != "M").cmp(&(y.ph != "M")).then(x.ts.total_cmp(&y.ts)));
    let summary = Summary { events: b.events.len(), dropped: b.dropped.clone() };
    let other = json!({
        "test": test,
        "rate": rate,
        "instructions": last,
        "time_axis": "ts is instructions retired x 1e6 / rate, in microseconds: time the CPU spent halted is not on this axis",
        "track_cap": TRACK_CAP,
        "dropped": b.dropped,
        "generator": "pintos-test --trace",
    });
    out.write_all(b"{\"traceEvents\":[\n")?;
    for (i, e) in b.events.iter().enumerate() {
        if i > 0 {
            out.write_all(b",\n")?;
        }
        serde_json::to_writer(&mut *out, e)?;
    }
    out.write_all(b"\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":")?;
    serde_json::to_writer(&mut *out, &other)?;
    out.write_all(b"}\n")?;
    Ok(summary)
}

/// Writes the trace of one run to `path`.
pub fn write(path: &Path, test: &str, rate: u64, rec: &Recorder) -> io::Result<Summary> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut w = BufWriter::new(std::fs::File::create(path)?);
    let s = write_to(&mut w, test, rate, rec)?;
    w.flush()?;
    Ok(s)
}

/// Where `--trace` puts a test's trace: `OUT/tests/.../NAME.trace.json`, beside its
/// `.output`.
pub fn path_for(out: &Path, test: &str) -> std::path::PathBuf {
    out.join(format!("{test}.trace.json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use emulator::observe::DiskCommand;

    fn sample() -> Recorder {
        let mut r = Recorder::default();
        r.cpu.push((100, CpuEvent::Cr3Load { value: 0x1000 }));
        // (System calls are left to tests/reports.rs, which traces real runs: the event's
        // fields are still growing.)
        r.cpu.push((200, CpuEvent::Interrupt { vector: 0x20, rip: 0x401234 }));
        r.cpu.push((210, CpuEvent::Interrupt { vector: 0x2e, rip: 0x401234 }));
        r.cpu.push((300, CpuEvent::Exception { vector: 14, error_code: Some(6), rip: 0x401000, address: 0x4747_f000, cpl: 3, cr3: 0x1000, rsp: 0x4747_f008 }));
        r.cpu.push((350, CpuEvent::Cr3Load { value: 0x1000 }));
        r.cpu.push((400, CpuEvent::Cr3Load { value: 0x2000 }));
        r.cpu.push((450, CpuEvent::Exception { vector: 13, error_code: Some(0), rip: 0x401000, address: 0, cpl: 3, cr3: 0x2000, rsp: 0 }));
        r.disk.push((500, DiskCommand { role: DiskRole::Swap, lba: 8, write: true, hashes: vec![1; 8] }));
        r.disk.push((600, DiskCommand { role: DiskRole::Fs, lba: 3, write: false, hashes: vec![2] }));
        r.claims.push((550, Claim::SwapOut { va: 0x4747_f000, slot: 1 }, 0x2000));
        r.claims.push((560, Claim::Frames { in_use: 3, swap_free: 7 }, 0x2000));
        r.power_off = Some(1000);
        r
    }

    fn events(rec: &Recorder) -> (Vec<Value>, Value) {
        let mut out = Vec::new();
        write_to(&mut out, "tests/vm/x", 1_000_000, rec).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        (v["traceEvents"].as_array().unwrap().clone(), v["otherData"].clone())
    }

    #[test]
    fn every_kind_of_event_lands_on_its_track() {
        let (ev, other) = events(&sample());
        let named = |n: &str| ev.iter().find(|e| e["name"] == n).unwrap_or_else(|| panic!("no {n}: {ev:?}")).clone();
        for e in &ev {
            for k in ["name", "ph", "ts", "pid", "tid"] {
                assert!(e.get(k).is_some(), "{k} missing in {e}");
            }
        }
        // At 1 M instructions per second an instruction is a microsecond.
        let pf = named("page fault 0x4747f000");
        assert_eq!((pf["ph"].as_str(), pf["ts"].as_f64(), pf["tid"].as_u64()), (Some("i"), Some(300.0), Some(2)));
        assert_eq!(pf["args"]["cause"], "user write, not present");
        assert_eq!(named("irq 0x20")["tid"], 5);
        assert!(!ev.iter().any(|e| e["name"] == "irq 0x2e"), "disk interrupts are the disk tracks");
        // The reload of 0x1000 continues its span.
        let a = named("cr3 0x1000");
        // Spans end 2 ns before the next begins.
        assert_eq!((a["ph"].as_str(), a["ts"].as_f64(), a["dur"].as_f64()), (Some("X"), Some(100.0), Some(299.998)));
        assert_eq!(named("cr3 0x2000")["dur"].as_f64(), Some(599.998));
        assert_eq!(named("#GP general protection (13)")["tid"], 3);
        let sw = named("write swap 8 sectors @8");
        assert_eq!((sw["tid"].as_u64(), sw["dur"].as_f64()), (Some(13), Some(8.0)));
        assert_eq!(named("read fs 1 sector @3")["tid"], 11);
        assert_eq!(named("swap sectors")["args"]["written"], 8);
        assert_eq!(named("swap-out 0x4747f000 → slot 1")["args"]["cr3"], "0x2000");
        assert_eq!(named("frames")["ph"], "C");
        assert_eq!(named("power off")["s"], "g");
        assert_eq!(named("thread_name")["ph"], "M");
        let ts: Vec<f64> = ev.iter().filter(|e| e["ph"] != "M").map(|e| e["ts"].as_f64().unwrap()).collect();
        assert!(ts.windows(2).all(|w| w[0] <= w[1]), "{ts:?}");
        assert_eq!((other["instructions"].as_u64(), other["rate"].as_u64()), (Some(1000), Some(1_000_000)));
        assert_eq!(syscall_name(22), Some("dup2"));
    }

    #[test]
    fn contiguous_disk_commands_are_one_transfer() {
        let mut r = Recorder::default();
        let cmd = |lba, write| DiskCommand { role: DiskRole::Swap, lba, write, hashes: vec![0] };
        // Sectors 0..3 back to back; sector 3 again too late; a read of sector 4.
        for (at, lba, write) in [(1000, 0, true), (2000, 1, true), (3000, 2, true), (3000 + DISK_MERGE_GAP + 1, 3, true), (3000 + 2 * DISK_MERGE_GAP, 4, false)] {
            r.disk.push((at, cmd(lba, write)));
        }
        let (ev, _) = events(&r);
        let names: Vec<&str> = ev.iter().filter(|e| e["tid"] == 13 && e["ph"] == "X").map(|e| e["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["write swap 3 sectors @0 (3 commands)", "write swap 1 sector @3", "read swap 1 sector @4"]);
        let first = ev.iter().find(|e| e["name"] == names[0]).unwrap();
        assert_eq!(first["dur"].as_f64(), Some(2001.0));
    }

    #[test]
    fn tracks_are_capped_and_the_drop_is_recorded() {
        let mut r = Recorder::default();
        for i in 0..TRACK_CAP as u64 + 5 {
            r.cpu.push((i, CpuEvent::Interrupt { vector: 0x20, rip: 0 }));
        }
        let (ev, other) = events(&r);
        assert_eq!(ev.iter().filter(|e| e["name"] == "irq 0x20").count(), TRACK_CAP);
        assert_eq!(other["dropped"]["interrupts"], 5);
    }
}
