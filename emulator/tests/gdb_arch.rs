//! The system gdb accepts `X86_64Sys`'s target description: against a stub with fixed
//! register values it prints the system registers, the segment bases and the ordinary
//! ones where they belong, and a register it writes reads back. (Skipped, with a note,
//! only where there is no gdb at all; CI installs it.)

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use emulator::pintos::gdb_arch::{SysRegs, X86_64Sys};
use gdbstub::common::Signal;
use gdbstub::conn::ConnectionExt;
use gdbstub::stub::run_blocking::{BlockingEventLoop, Event, WaitForStopReasonError};
use gdbstub::stub::{GdbStub, SingleThreadStopReason};
use gdbstub::target::ext::base::singlethread::SingleThreadBase;
use gdbstub::target::ext::base::BaseOps;
use gdbstub::target::{Target, TargetResult};

/// A stopped machine whose registers are whatever gdb last saw or wrote, and whose
/// memory is all zeros (gdb reads some around the PC to show the frame).
struct Fixed(SysRegs);

impl Target for Fixed {
    type Arch = X86_64Sys;
    type Error = &'static str;

    fn base_ops(&mut self) -> BaseOps<'_, Self::Arch, Self::Error> {
        BaseOps::SingleThread(self)
    }

    // Nothing here ever runs, so gdb planting breakpoints in memory is harmless.
    fn guard_rail_implicit_sw_breakpoints(&self) -> bool {
        true
    }
}

impl SingleThreadBase for Fixed {
    fn read_registers(&mut self, regs: &mut SysRegs) -> TargetResult<(), Self> {
        *regs = self.0.clone();
        Ok(())
    }

    fn write_registers(&mut self, regs: &SysRegs) -> TargetResult<(), Self> {
        self.0 = regs.clone();
        Ok(())
    }

    fn read_addrs(&mut self, _start: u64, data: &mut [u8]) -> TargetResult<usize, Self> {
        data.fill(0);
        Ok(data.len())
    }

    fn write_addrs(&mut self, _start: u64, _data: &[u8]) -> TargetResult<(), Self> {
        Ok(())
    }
}

enum Loop {}

impl BlockingEventLoop for Loop {
    type Target = Fixed;
    type Connection = TcpStream;
    type StopReason = SingleThreadStopReason<u64>;

    // The target cannot resume, so there is never anything to wait for but gdb.
    fn wait_for_stop_reason(
        _target: &mut Fixed,
        conn: &mut TcpStream,
    ) -> Result<Event<Self::StopReason>, WaitForStopReasonError<&'static str, std::io::Error>> {
        let byte = ConnectionExt::read(conn).map_err(WaitForStopReasonError::Connection)?;
        Ok(Event::IncomingData(byte))
    }

    fn on_interrupt(_target: &mut Fixed) -> Result<Option<Self::StopReason>, &'static str> {
        Ok(Some(SingleThreadStopReason::Signal(Signal::SIGINT)))
    }
}

#[test]
fn gdb_reads_system_registers_through_the_description() {
    if Command::new("gdb").arg("--version").stdout(Stdio::null()).status().is_err() {
        eprintln!("note: no gdb on PATH; skipping the check against the real gdb");
        return;
    }
    let mut regs = SysRegs::default();
    regs.core.rip = 0x401000;
    regs.core.regs[0] = 0xaaaa_bbbb_cccc_dddd;
    regs.core.regs[15] = 0x1515;
    regs.core.eflags = 0x246;
    regs.core.segments.cs = 0x8;
    regs.core.fpu.fop = 0x7ff;
    regs.core.xmm[15] = 0x0f0f_0f0f_0f0f_0f0f_0f0f_0f0f_0f0f_0f0f;
    regs.core.mxcsr = 0x1f80;
    regs.fs_base = 0x5000;
    regs.gs_base = 0x6000;
    regs.k_gs_base = 0xffff_8000_0000_7000;
    regs.cr0 = 0x8000_0011;
    regs.cr2 = 0xc000_1234;
    regs.cr3 = 0x123_4000;
    regs.cr4 = 0x20;
    regs.cr8 = 0xf;
    regs.efer = 0x500;

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let stub = std::thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        let _ = conn.set_nodelay(true);
        let mut target = Fixed(regs);
        let reason = GdbStub::new(conn).run_blocking::<Loop>(&mut target);
        (reason.map_err(|e| e.to_string()), target.0)
    });

    let mut args = vec!["-batch".to_string(), "-nx".into()];
    let commands = [
        "set architecture i386:x86-64".to_string(),
        format!("target remote 127.0.0.1:{port}"),
        "p/x $cr3".into(),
        "p/x $fs_base".into(),
        "p/x $rip".into(),
        "p/x $gs_base".into(),
        "p/x $k_gs_base".into(),
        "p/x $cr0".into(),
        "p/x $cr2".into(),
        "p/x $cr4".into(),
        "p/x $cr8".into(),
        "p/x $efer".into(),
        "p/x $r15".into(),
        "p/x $cs".into(),
        "p/x $fop".into(),
        "p/x $xmm15.uint128".into(),
        "p/x $mxcsr".into(),
        "set $cr3 = 0x5678000".into(),
        "p/x $cr3".into(),
        "info registers rax".into(),
        "info registers".into(),
    ];
    for c in &commands {
        args.push("-ex".into());
        args.push(c.clone());
    }
    let mut gdb = Command::new("gdb").args(&args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while gdb.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = gdb.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let (mut out, mut err) = (String::new(), String::new());
    gdb.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    gdb.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    let said = format!("gdb said:\n{out}\n{err}");

    let values: Vec<&str> = out.lines().filter_map(|l| l.split_once(" = ").map(|(_, v)| v.trim())).collect();
    assert_eq!(
        values,
        [
            "0x1234000",
            "0x5000",
            "0x401000",
            "0x6000",
            "0xffff800000007000",
            "0x80000011",
            "0xc0001234",
            "0x20",
            "0xf",
            "0x500",
            "0x1515",
            "0x8",
            "0x7ff",
            "0xf0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f",
            "0x1f80",
            "0x5678000",
        ],
        "{said}"
    );
    assert!(out.lines().any(|l| l.starts_with("rax") && l.contains("0xaaaabbbbccccdddd")), "{said}");
    for name in ["fs_base", "gs_base", "cr3", "efer"] {
        assert!(out.lines().any(|l| l.split_whitespace().next() == Some(name)), "info registers lacks {name}; {said}");
    }
    assert!(out.lines().any(|l| l.starts_with("cr0") && l.contains("[ PE ET PG ]")), "{said}");
    assert!(out.lines().any(|l| l.starts_with("efer") && l.contains("[ LME LMA ]")), "{said}");
    // A description gdb dislikes costs only a warning on stderr, not an error.
    for bad in ["description", "rejected", "register"] {
        assert!(!err.contains(bad), "{said}");
    }

    let (reason, last) = stub.join().unwrap();
    assert!(reason.is_ok(), "stub: {reason:?}; {said}");
    assert_eq!(last.cr3, 0x567_8000, "gdb's write reached the stub");
    assert_eq!(last.fs_base, 0x5000, "the write left the other registers alone");
}
