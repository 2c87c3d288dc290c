//! Symbolised panic backtraces: the job of Pintos' `backtrace` tool, done at the end of
//! the run. A kernel panic prints `Call stack: 0x... 0x...` (return addresses); when the
//! kernel's ELF is known (the built-in kernel's `kernel.elf`, or `kernel.o` next to a
//! KAIST build's `os.dsk`), each address is named: the function (from the symbol table,
//! read with goblin) and the source line (from the DWARF line tables, with addr2line).

use std::io::Write;
use std::path::{Path, PathBuf};

use goblin::elf::sym::STT_FUNC;
use goblin::elf::Elf;

/// The kernel ELF for the boot disk at `os_disk`: `kernel.elf` (ours) or `kernel.o`
/// (Pintos-KAIST) in its directory.
pub fn kernel_elf(os_disk: &Path) -> Option<PathBuf> {
    let dir = os_disk.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    ["kernel.elf", "kernel.o"].into_iter().map(|n| dir.join(n)).find(|p| p.is_file())
}

/// The return addresses of every `Call stack:` line in `console`.
pub fn call_stacks(console: &str) -> Vec<Vec<u64>> {
    console
        .lines()
        .filter_map(|l| l.split_once("Call stack:").map(|(_, rest)| rest))
        .map(|rest| rest.split_whitespace().filter_map(|w| u64::from_str_radix(w.trim_start_matches("0x").trim_end_matches('.'), 16).ok()).collect())
        .filter(|v: &Vec<u64>| !v.is_empty())
        .collect()
}

/// One line per address: `0xADDR: function+0xOFF (file:line)`, as far as the ELF knows.
pub fn symbolise(elf_path: &Path, addresses: &[u64]) -> Result<Vec<String>, String> {
    let bytes = std::fs::read(elf_path).map_err(|e| format!("{}: {e}", elf_path.display()))?;
    let elf = Elf::parse(&bytes).map_err(|e| format!("{}: not an ELF file ({e})", elf_path.display()))?;
    let mut funcs: Vec<(u64, u64, &str)> = elf
        .syms
        .iter()
        .filter(|s| s.st_type() == STT_FUNC && s.st_value != 0)
        .filter_map(|s| elf.strtab.get_at(s.st_name).map(|n| (s.st_value, s.st_size, n)))
        .collect();
    funcs.sort();
    let lines = addr2line::Loader::new(elf_path).ok();
    Ok(addresses
        .iter()
        .map(|&a| {
            // A return address points after the call: look up the call itself.
            let at = a.saturating_sub(1);
            let func = funcs.iter().rev().find(|(start, size, _)| *start <= at && at < start + (*size).max(1)).map(|(start, _, name)| format!("{}+{:#x}", demangle(name), a - start));
            let line = lines.as_ref().and_then(|l| l.find_location(at).ok().flatten()).and_then(|loc| Some(format!("{}:{}", loc.file?, loc.line?)));
            match (func, line) {
                (Some(f), Some(l)) => format!("{a:#x}: {f} ({l})"),
                (Some(f), None) => format!("{a:#x}: {f}"),
                (None, Some(l)) => format!("{a:#x}: ({l})"),
                (None, None) => format!("{a:#x}: (unknown)"),
            }
        })
        .collect())
}

/// The address of the data or function symbol `name` in the ELF: an exact match of the
/// raw or demangled name, else the one demangled name ending in `::name` (so `TICKS`
/// finds `kernel::devices::timer::TICKS`, and `ticks` finds C's `ticks`).
pub fn symbol_address(elf_path: &Path, name: &str) -> Result<u64, String> {
    let bytes = std::fs::read(elf_path).map_err(|e| format!("{}: {e}", elf_path.display()))?;
    let elf = Elf::parse(&bytes).map_err(|e| format!("{}: not an ELF file ({e})", elf_path.display()))?;
    let syms: Vec<(String, u64)> = elf.syms.iter().filter(|s| s.st_value != 0).filter_map(|s| elf.strtab.get_at(s.st_name).map(|n| (n, s.st_value))).map(|(n, v)| (plain_name(n), v)).collect();
    if let Some((_, v)) = syms.iter().find(|(n, _)| n == name) {
        return Ok(*v);
    }
    let tail = format!("::{name}");
    let mut found: Vec<&(String, u64)> = syms.iter().filter(|(n, _)| n.ends_with(&tail)).collect();
    found.dedup_by_key(|(n, _)| n.clone());
    match found.as_slice() {
        [(_, v)] => Ok(*v),
        [] => Err(format!("no symbol `{name}` in {}", elf_path.display())),
        many => Err(format!("`{name}` is ambiguous in {}: {}", elf_path.display(), many.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", "))),
    }
}

/// A symbol's name as a user writes it: demangled, without the compiler's suffixes (the
/// `::h0123...` hash, LLVM's `.llvm.N` and `.0` clones).
fn plain_name(raw: &str) -> String {
    let base = match raw.find("E.") {
        Some(i) if raw.starts_with("_ZN") => &raw[..=i],
        _ => raw,
    };
    let name = demangle(base);
    match name.rsplit_once("::h") {
        Some((head, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => head.to_string(),
        _ => name,
    }
}

/// Rust symbol names, readable (`_ZN6kernel7threads...` and `_R...`): what the
/// addr2line crate's demangler gives, else the raw name.
fn demangle(name: &str) -> String {
    addr2line::demangle_auto(name.into(), None).into_owned()
}

/// Keeps the console's `Call stack:` lines while passing everything through.
pub struct Scan<'a> {
    pub out: &'a mut dyn Write,
    line: Vec<u8>,
    pub stacks: String,
}

impl<'a> Scan<'a> {
    pub fn new(out: &'a mut dyn Write) -> Scan<'a> {
        Scan { out, line: Vec::new(), stacks: String::new() }
    }
}

impl Write for Scan<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for &b in buf {
            if b == b'\n' {
                let l = String::from_utf8_lossy(&self.line);
                if l.contains("Call stack:") {
                    self.stacks.push_str(&l);
                    self.stacks.push('\n');
                }
                self.line.clear();
            } else if self.line.len() < 4096 {
                self.line.push(b);
            }
        }
        self.out.write_all(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_stack_lines_are_found() {
        let c = "Kernel PANIC at ../../threads/thread.c:123 in foo(): bad\nCall stack: 0x8004218f8c 0x800421a0b1.\nx\nCall stack: 0x200123 0x200456\n";
        assert_eq!(call_stacks(c), [vec![0x80_0421_8f8c, 0x80_0421_a0b1], vec![0x200123, 0x200456]]);
        assert!(call_stacks("no panic\n").is_empty());
    }

    #[test]
    fn a_bad_elf_is_an_error() {
        let p = std::env::temp_dir().join(format!("not-an-elf-{}", std::process::id()));
        std::fs::write(&p, b"hello").unwrap();
        assert!(symbolise(&p, &[1]).unwrap_err().contains("not an ELF"));
        let _ = std::fs::remove_file(&p);
    }
}
