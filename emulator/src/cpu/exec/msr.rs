//! Model-specific registers, `cpuid`, and the time-stamp counter.
//!
//! # The CPU we claim to be
//!
//! `cpuid` describes a qemu64-like processor, so guests take the same paths they take under
//! QEMU's default 64-bit model (QEMU's `qemu64`: vendor "AuthenticAMD", family 6 model 6
//! stepping 3, max basic leaf 0xd, brand "QEMU Virtual CPU version 2.5+"). Differences from
//! qemu64 are deliberate: we do not advertise what we do not implement (MTRR, MCA, MCE,
//! SVM) and we do advertise what we do (POPCNT, 1 GiB pages, the hypervisor bit).
//!
//! | leaf         | EAX / EBX / ECX / EDX                                                       |
//! |--------------|-----------------------------------------------------------------------------|
//! | 0            | max basic leaf 0xd; "AuthenticAMD" in EBX, EDX, ECX                         |
//! | 1            | signature 0x663; EBX: CLFLUSH line 8 qwords, 1 logical CPU, APIC ID 0;       |
//! |              | ECX: SSE3, CX16, POPCNT, hypervisor; EDX: FPU, DE, PSE, TSC, MSR, PAE, CX8, |
//! |              | APIC, SEP, PGE, CMOV, PAT, PSE36, CLFLUSH, MMX, FXSR, SSE, SSE2             |
//! | 2..=0xd      | all zero (no cache descriptors, no extended features, no XSAVE)            |
//! | 0x8000_0000  | max extended leaf 0x8000_0008, vendor again                                |
//! | 0x8000_0001  | signature; ECX: LAHF_LM; EDX: the AMD aliases of leaf 1 EDX, SYSCALL, NX,   |
//! |              | PDPE1GB, RDTSCP, LM                                                         |
//! | 0x8000_0002-4| brand string                                                               |
//! | 0x8000_0008  | 40 physical, 48 linear address bits                                        |
//! | other        | all zero                                                                   |
//!
//! # Time
//!
//! The TSC is virtual: `now() + tsc_offset` (instructions retired plus halted time). Writing MSR 0x10 sets the offset so the
//! counter continues from the written value, which keeps runs deterministic.

use iced_x86::Mnemonic;

use super::Table;
use crate::bus::Bus;
use crate::cpu::decode::{Handler, Op};
use crate::cpu::exception::Exception;
use crate::cpu::segment::{FS, GS};
use crate::cpu::{reg, Cpu};
use crate::mmu;

/// MSR numbers.
pub mod msr {
    pub const TSC: u32 = 0x10;
    pub const APIC_BASE: u32 = 0x1b;
    pub const SYSENTER_CS: u32 = 0x174;
    pub const SYSENTER_ESP: u32 = 0x175;
    pub const SYSENTER_EIP: u32 = 0x176;
    pub const MISC_ENABLE: u32 = 0x1a0;
    pub const PAT: u32 = 0x277;
    pub const EFER: u32 = 0xc000_0080;
    pub const STAR: u32 = 0xc000_0081;
    pub const LSTAR: u32 = 0xc000_0082;
    pub const CSTAR: u32 = 0xc000_0083;
    pub const SFMASK: u32 = 0xc000_0084;
    pub const FS_BASE: u32 = 0xc000_0100;
    pub const GS_BASE: u32 = 0xc000_0101;
    pub const KERNEL_GS_BASE: u32 = 0xc000_0102;
    pub const TSC_AUX: u32 = 0xc000_0103;
}

/// CPUID signature (family 6, model 6, stepping 3), as the reset value of EDX.
pub const SIGNATURE: u32 = 0x663;
const VENDOR: &[u8; 12] = b"AuthenticAMD";
const BRAND: &str = "QEMU Virtual CPU version 2.5+";

const LEAF1_EDX: u32 = 1 << 0 // FPU
    | 1 << 2 // DE
    | 1 << 3 // PSE
    | 1 << 4 // TSC
    | 1 << 5 // MSR
    | 1 << 6 // PAE
    | 1 << 8 // CX8
    | 1 << 9 // APIC
    | 1 << 11 // SEP
    | 1 << 13 // PGE
    | 1 << 15 // CMOV
    | 1 << 16 // PAT
    | 1 << 17 // PSE36
    | 1 << 19 // CLFLUSH
    | 1 << 23 // MMX
    | 1 << 24 // FXSR
    | 1 << 25 // SSE
    | 1 << 26; // SSE2
const LEAF1_ECX: u32 = 1 << 0 // SSE3
    | 1 << 13 // CX16
    | 1 << 23 // POPCNT
    | 1 << 31; // hypervisor
/// Leaf 1 EDX bits AMD repeats in leaf 0x8000_0001 EDX.
const AMD_ALIASES: u32 = 0x0183_f3ff;
const EXT_EDX: u32 = (LEAF1_EDX & AMD_ALIASES)
    | 1 << 11 // SYSCALL
    | 1 << 20 // NX
    | 1 << 26 // PDPE1GB
    | 1 << 27 // RDTSCP
    | 1 << 29; // LM
const EXT_ECX: u32 = 1 << 0; // LAHF_LM

fn le_words(b: &[u8]) -> [u32; 4] {
    let mut w = [0u32; 4];
    for (i, c) in b.chunks(4).enumerate().take(4) {
        let mut x = [0u8; 4];
        x[..c.len()].copy_from_slice(c);
        w[i] = u32::from_le_bytes(x);
    }
    w
}

/// The CPUID result (EAX, EBX, ECX, EDX) for `leaf`/`subleaf` (see the module docs).
pub fn cpuid(leaf: u32, _subleaf: u32) -> [u32; 4] {
    let v = le_words(VENDOR);
    match leaf {
        0 => [0xd, v[0], v[2], v[1]],
        1 => [SIGNATURE, 8 << 8 | 1 << 16, LEAF1_ECX, LEAF1_EDX],
        0x8000_0000 => [0x8000_0008, v[0], v[2], v[1]],
        0x8000_0001 => [SIGNATURE, 0, EXT_ECX, EXT_EDX],
        0x8000_0002..=0x8000_0004 => {
            let mut brand = [0u8; 48];
            brand[..BRAND.len()].copy_from_slice(BRAND.as_bytes());
            let i = (leaf - 0x8000_0002) as usize * 16;
            le_words(&brand[i..i + 16])
        }
        0x8000_0008 => [(48 << 8) | mmu::MAXPHYADDR, 0, 0, 0],
        _ => [0; 4],
    }
}

fn cpuid_op(cpu: &mut Cpu, _: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    let r = cpuid(cpu.gpr[reg::RAX as usize] as u32, cpu.gpr[reg::RCX as usize] as u32);
    for (i, g) in [reg::RAX, reg::RBX, reg::RCX, reg::RDX].into_iter().enumerate() {
        cpu.set_reg::<4>(g, r[i] as u64);
    }
    Ok(())
}

impl Cpu {
    /// The virtual time-stamp counter.
    pub fn tsc(&self) -> u64 {
        self.now().wrapping_add(self.msr.tsc_offset)
    }

    /// Reads MSR `n`; unknown MSRs raise #GP(0).
    pub fn read_msr(&self, n: u32) -> Result<u64, Exception> {
        Ok(match n {
            msr::TSC => self.tsc(),
            msr::APIC_BASE => self.msr.apic_base,
            msr::SYSENTER_CS => self.msr.sysenter_cs,
            msr::SYSENTER_ESP => self.msr.sysenter_esp,
            msr::SYSENTER_EIP => self.msr.sysenter_eip,
            msr::MISC_ENABLE => self.msr.misc_enable,
            msr::PAT => self.msr.pat,
            msr::EFER => self.efer,
            msr::STAR => self.msr.star,
            msr::LSTAR => self.msr.lstar,
            msr::CSTAR => self.msr.cstar,
            msr::SFMASK => self.msr.sfmask,
            msr::FS_BASE => self.seg[FS as usize].base,
            msr::GS_BASE => self.seg[GS as usize].base,
            msr::KERNEL_GS_BASE => self.msr.kernel_gs_base,
            msr::TSC_AUX => self.msr.tsc_aux,
            _ => return Err(Exception::gp(0)),
        })
    }

    /// Writes MSR `n`, with the reserved-bit and canonical-address checks that matter.
    pub fn write_msr(&mut self, n: u32, v: u64) -> Result<(), Exception> {
        let canonical = ((v as i64) << 16 >> 16) as u64 == v;
        match n {
            msr::TSC => self.msr.tsc_offset = v.wrapping_sub(self.now()),
            // Bits 11:8 flags (BSP, x2APIC, enable) and the base up to MAXPHYADDR.
            msr::APIC_BASE => {
                if v & !(((1u64 << mmu::MAXPHYADDR) - 1) & !0x6ff) != 0 {
                    return Err(Exception::gp(0));
                }
                self.msr.apic_base = v;
            }
            msr::SYSENTER_CS => self.msr.sysenter_cs = v & 0xffff,
            msr::SYSENTER_ESP if canonical => self.msr.sysenter_esp = v,
            msr::SYSENTER_EIP if canonical => self.msr.sysenter_eip = v,
            msr::MISC_ENABLE => self.msr.misc_enable = v,
            msr::PAT => {
                // Each byte must be a valid memory type (0, 1, 4, 5, 6, 7).
                if v.to_le_bytes().iter().any(|&b| !matches!(b, 0 | 1 | 4..=7)) {
                    return Err(Exception::gp(0));
                }
                self.msr.pat = v;
            }
            msr::EFER => self.write_efer(v)?,
            msr::STAR => self.msr.star = v,
            msr::LSTAR if canonical => self.msr.lstar = v,
            msr::CSTAR if canonical => self.msr.cstar = v,
            msr::SFMASK => self.msr.sfmask = v & 0xffff_ffff,
            msr::FS_BASE | msr::GS_BASE if canonical => {
                let s = if n == msr::FS_BASE { FS } else { GS };
                self.seg[s as usize].base = v;
                self.update_segment_cache();
            }
            msr::KERNEL_GS_BASE if canonical => self.msr.kernel_gs_base = v,
            msr::TSC_AUX => {
                if v >> 32 != 0 {
                    return Err(Exception::gp(0));
                }
                self.msr.tsc_aux = v;
            }
            _ => return Err(Exception::gp(0)),
        }
        Ok(())
    }
}

fn rdmsr(cpu: &mut Cpu, _: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    if cpu.cpl() != 0 {
        return Err(Exception::gp(0));
    }
    let v = cpu.read_msr(cpu.gpr[reg::RCX as usize] as u32)?;
    cpu.set_reg::<4>(reg::RAX, v & 0xffff_ffff);
    cpu.set_reg::<4>(reg::RDX, v >> 32);
    Ok(())
}

fn wrmsr(cpu: &mut Cpu, _: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    if cpu.cpl() != 0 {
        return Err(Exception::gp(0));
    }
    let v = (cpu.gpr[reg::RDX as usize] << 32) | (cpu.gpr[reg::RAX as usize] & 0xffff_ffff);
    cpu.write_msr(cpu.gpr[reg::RCX as usize] as u32, v)?;
    // EFER and segment bases affect decoding and addressing of what follows.
    cpu.end_block = true;
    Ok(())
}

/// `rdtsc` (AUX = false) and `rdtscp` (AUX = true, also ECX = TSC_AUX).
fn rdtsc<const AUX: bool>(cpu: &mut Cpu, _: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    if cpu.cr4 & mmu::CR4_TSD != 0 && cpu.cpl() != 0 && cpu.protected() {
        return Err(Exception::gp(0));
    }
    let t = cpu.tsc();
    cpu.set_reg::<4>(reg::RAX, t & 0xffff_ffff);
    cpu.set_reg::<4>(reg::RDX, t >> 32);
    if AUX {
        cpu.set_reg::<4>(reg::RCX, cpu.msr.tsc_aux);
    }
    Ok(())
}

pub fn register(t: &mut Table) {
    t.set(Mnemonic::Cpuid, |_, _| Some(cpuid_op as Handler));
    t.set(Mnemonic::Rdmsr, |_, _| Some(rdmsr as Handler));
    t.set(Mnemonic::Wrmsr, |_, op| {
        op.stop = true;
        Some(wrmsr as Handler)
    });
    t.set(Mnemonic::Rdtsc, |_, _| Some(rdtsc::<false> as Handler));
    t.set(Mnemonic::Rdtscp, |_, _| Some(rdtsc::<true> as Handler));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_and_brand() {
        let r = cpuid(0, 0);
        let mut v = Vec::new();
        for w in [r[1], r[3], r[2]] {
            v.extend_from_slice(&w.to_le_bytes());
        }
        assert_eq!(&v, VENDOR);
        let mut b = Vec::new();
        for l in 0x8000_0002..=0x8000_0004 {
            for w in cpuid(l, 0) {
                b.extend_from_slice(&w.to_le_bytes());
            }
        }
        assert!(b.starts_with(BRAND.as_bytes()));
        assert_eq!(cpuid(0x8000_0008, 0)[0], 0x3028);
        assert_ne!(cpuid(0x8000_0001, 0)[3] & (1 << 29), 0);
    }
}
