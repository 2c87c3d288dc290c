//! `pintos --gdb`: a hand-written GDB remote-protocol client (no gdb needed) drives the
//! real binary through registers, memory, a breakpoint, a single step and the exit.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use iced_x86::code_asm::*;

struct Rsp(TcpStream);

impl Rsp {
    fn byte(&mut self) -> u8 {
        let mut b = [0u8];
        self.0.read_exact(&mut b).expect("read from the stub");
        b[0]
    }

    /// Sends `data` as a packet and returns the reply packet's payload.
    fn ask(&mut self, data: &str) -> String {
        let sum = data.bytes().fold(0u8, |a, b| a.wrapping_add(b));
        write!(self.0, "${data}#{sum:02x}").unwrap();
        self.0.flush().unwrap();
        assert_eq!(self.byte(), b'+', "no ack for {data:?}");
        while self.byte() != b'$' {}
        let mut payload = Vec::new();
        loop {
            match self.byte() {
                b'#' => break,
                b => payload.push(b),
            }
        }
        let sum = [self.byte(), self.byte()];
        let sum = u8::from_str_radix(std::str::from_utf8(&sum).unwrap(), 16).unwrap();
        assert_eq!(payload.iter().fold(0u8, |a, b| a.wrapping_add(*b)), sum, "bad checksum");
        self.0.write_all(b"+").unwrap();
        // Undo run-length encoding: `X*n` is X followed by n - 29 more copies.
        let mut text = Vec::new();
        let mut i = 0;
        while i < payload.len() {
            if payload[i] == b'*' && i + 1 < payload.len() {
                let last = *text.last().unwrap();
                text.extend(std::iter::repeat_n(last, (payload[i + 1] - 29) as usize));
                i += 2;
            } else {
                text.push(payload[i]);
                i += 1;
            }
        }
        String::from_utf8(text).unwrap()
    }

    /// RIP (the 17th register of gdb's x86-64 layout) and RAX from a `g` reply.
    fn rip_rax(&mut self) -> (u64, u64) {
        let g = self.ask("g");
        let le = |hex: &str| u64::from_le_bytes(hex_bytes(hex).try_into().unwrap());
        (le(&g[256..272]), le(&g[0..16]))
    }
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn gdb_registers_memory_breakpoint_step_and_exit() {
    // 7c00: mov ax,1 (3 bytes); 7c03: mov bx,2; 7c06: mov cx,3; 7c09: print 'k'; power off.
    let mut a = CodeAssembler::new(16).unwrap();
    a.mov(ax, 1u32).unwrap();
    a.mov(bx, 2u32).unwrap();
    a.mov(cx, 3u32).unwrap();
    a.mov(dx, 0x3f8u32).unwrap();
    a.mov(al, b'k' as u32).unwrap();
    a.out(dx, al).unwrap();
    a.mov(dx, 0x604u32).unwrap();
    a.mov(ax, 0x2000u32).unwrap();
    a.out(dx, ax).unwrap();
    a.hlt().unwrap();
    let mut disk = a.assemble(0x7c00).unwrap();
    let code = disk.clone();
    disk.resize(510, 0);
    disk.extend_from_slice(&[0x55, 0xaa]);

    let dir = std::env::temp_dir().join(format!("pintos-gdb-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("os.dsk"), &disk).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pintos"))
        .args(["-v", "-k", "--gdb", "--gdb-port", "0", "--", "run"])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pintos");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let port: u16 = line.split("localhost:").nth(1).and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next()).and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("no port in {line:?}"));
    let conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut gdb = Rsp(conn);

    let stop = gdb.ask("?");
    assert!(stop.starts_with('S') || stop.starts_with('T'), "{stop:?}");
    assert_eq!(gdb.rip_rax().0, 0x7c00);
    assert_eq!(hex_bytes(&gdb.ask("m7c00,9")), code[..9]);
    assert!(gdb.ask("mffffffff0000,4").starts_with('E'), "unmapped memory must be an error");

    assert_eq!(gdb.ask("Z0,7c06,1"), "OK");
    let stop = gdb.ask("c");
    assert!(stop.starts_with("T05"), "{stop:?}");
    let (pc, acc) = gdb.rip_rax();
    assert_eq!((pc, acc & 0xffff), (0x7c06, 1));

    let stop = gdb.ask("s");
    assert!(stop.starts_with("T05") || stop == "S05", "{stop:?}");
    assert_eq!(gdb.rip_rax().0, 0x7c09, "mov cx,3 is 3 bytes long");

    assert_eq!(gdb.ask("z0,7c06,1"), "OK");
    assert_eq!(gdb.ask("c"), "W00");
    let status = child.wait().unwrap();
    assert!(status.success());
    let mut out = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    assert_eq!(out, "k");
}
