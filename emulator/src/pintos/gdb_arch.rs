//! The register set the gdb stub offers: gdb's usual x86-64 registers plus the segment
//! bases and the system registers a kernel debugger wants (`p $cr3`, `p $fs_base`,
//! `info registers`).
//!
//! `gdbstub_arch`'s `X86_64_SSE` describes its target with an empty SSE feature, which
//! makes gdb fall back to its built-in register list; that only works while the stub sends
//! exactly those registers. Once there are more, gdb wants every register described, so
//! [`TARGET_XML`] spells out the core and SSE features in the layout gdb's own
//! `features/i386/64bit-{core,sse,segments}.xml` use, followed by a feature of our own for
//! the system registers. gdb lays out the `g` packet in the order the description lists
//! registers, so [`SysRegs::gdb_serialize`] must follow that order byte for byte.

use std::num::NonZeroUsize;

use gdbstub::arch::{Arch, RegId, Registers};
use gdbstub_arch::x86::reg::id::X86_64CoreRegId;
use gdbstub_arch::x86::reg::X86_64CoreRegs;

/// x86-64 with the segment bases and system registers, for `gdbstub`.
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum X86_64Sys {}

impl Arch for X86_64Sys {
    type Usize = u64;
    type Registers = SysRegs;
    type RegId = SysRegId;
    type BreakpointKind = usize;

    fn target_description_xml() -> Option<&'static str> {
        Some(TARGET_XML)
    }
}

/// Bytes of the core + SSE registers in a `g` packet (what `X86_64CoreRegs` writes).
const CORE_BYTES: usize = 0x218;
/// gdb's number for the first register after the core + SSE ones (`fs_base`).
const FIRST_EXTRA: usize = 57;
/// The registers after the core + SSE ones, in the description's order.
pub const EXTRA_NAMES: [&str; 9] = ["fs_base", "gs_base", "k_gs_base", "cr0", "cr2", "cr3", "cr4", "cr8", "efer"];
/// Bytes of a whole `g` packet.
pub const G_PACKET_BYTES: usize = CORE_BYTES + 8 * EXTRA_NAMES.len();

/// Everything gdb reads and writes in one `g`/`G` packet.
#[derive(Default, Debug, Clone, PartialEq)]
pub struct SysRegs {
    pub core: X86_64CoreRegs,
    pub fs_base: u64,
    pub gs_base: u64,
    /// The GS base `swapgs` swaps in (IA32_KERNEL_GS_BASE).
    pub k_gs_base: u64,
    pub cr0: u64,
    pub cr2: u64,
    pub cr3: u64,
    pub cr4: u64,
    pub cr8: u64,
    pub efer: u64,
}

impl SysRegs {
    /// The extra registers in [`EXTRA_NAMES`] order; both serialisation directions go
    /// through these two so they cannot disagree about the order.
    fn extras(&self) -> [u64; 9] {
        [self.fs_base, self.gs_base, self.k_gs_base, self.cr0, self.cr2, self.cr3, self.cr4, self.cr8, self.efer]
    }

    fn extras_mut(&mut self) -> [&mut u64; 9] {
        [
            &mut self.fs_base,
            &mut self.gs_base,
            &mut self.k_gs_base,
            &mut self.cr0,
            &mut self.cr2,
            &mut self.cr3,
            &mut self.cr4,
            &mut self.cr8,
            &mut self.efer,
        ]
    }
}

impl Registers for SysRegs {
    type ProgramCounter = u64;

    fn pc(&self) -> u64 {
        self.core.rip
    }

    fn gdb_serialize(&self, mut write_byte: impl FnMut(Option<u8>)) {
        self.core.gdb_serialize(&mut write_byte);
        for v in self.extras() {
            for b in v.to_le_bytes() {
                write_byte(Some(b));
            }
        }
    }

    fn gdb_deserialize(&mut self, bytes: &[u8]) -> Result<(), ()> {
        // The core's own check only rejects short input; a packet of another length means
        // gdb and we disagree about the layout, and nothing in it can be trusted.
        if bytes.len() != G_PACKET_BYTES {
            return Err(());
        }
        let (core, extra) = bytes.split_at(CORE_BYTES);
        let mut new = self.clone();
        new.core.gdb_deserialize(core)?;
        for (field, chunk) in new.extras_mut().into_iter().zip(extra.chunks_exact(8)) {
            *field = u64::from_le_bytes(chunk.try_into().map_err(|_| ())?);
        }
        *self = new;
        Ok(())
    }
}

/// One register by gdb's number, for the `p`/`P` packets.
#[derive(Debug, Clone, Copy)]
pub enum SysRegId {
    /// Numbers 0-56, as gdb numbers them without a target description.
    Core(X86_64CoreRegId),
    FsBase,
    GsBase,
    KGsBase,
    Cr0,
    Cr2,
    Cr3,
    Cr4,
    Cr8,
    Efer,
}

impl RegId for SysRegId {
    fn from_raw_id(id: usize) -> Option<(Self, Option<NonZeroUsize>)> {
        use SysRegId::*;
        if id < FIRST_EXTRA {
            return X86_64CoreRegId::from_raw_id(id).map(|(r, size)| (Core(r), size));
        }
        let r = match id - FIRST_EXTRA {
            0 => FsBase,
            1 => GsBase,
            2 => KGsBase,
            3 => Cr0,
            4 => Cr2,
            5 => Cr3,
            6 => Cr4,
            7 => Cr8,
            8 => Efer,
            _ => return None,
        };
        Some((r, NonZeroUsize::new(8)))
    }
}

/// The target description gdb fetches with `qXfer:features:read:target.xml`.
///
/// gdb checks the core, SSE and segments features by register name (so those names are
/// fixed); it numbers registers in the order listed, from 0, and the explicit `regnum`s
/// only restate that to catch a miscount. The vector and flag types are declared inside
/// the feature that uses them because gdb looks types up per feature. The segment bases
/// keep the type gdb's own description gives them. `cr2` and `k_gs_base` hold addresses
/// and print as pointers; CR0, CR4 and EFER get flag types so gdb names their set bits,
/// as it does for EFLAGS; CR3 and CR8 are plain unsigned numbers. No register names a
/// `group`, so all of them show in a plain `info registers`.
pub const TARGET_XML: &str = r#"<?xml version="1.0"?>
<!DOCTYPE target SYSTEM "gdb-target.dtd">
<target version="1.0">
<architecture>i386:x86-64</architecture>
<feature name="org.gnu.gdb.i386.core">
  <flags id="i386_eflags" size="4">
    <field name="CF" start="0" end="0"/>
    <field name="" start="1" end="1"/>
    <field name="PF" start="2" end="2"/>
    <field name="AF" start="4" end="4"/>
    <field name="ZF" start="6" end="6"/>
    <field name="SF" start="7" end="7"/>
    <field name="TF" start="8" end="8"/>
    <field name="IF" start="9" end="9"/>
    <field name="DF" start="10" end="10"/>
    <field name="OF" start="11" end="11"/>
    <field name="NT" start="14" end="14"/>
    <field name="RF" start="16" end="16"/>
    <field name="VM" start="17" end="17"/>
    <field name="AC" start="18" end="18"/>
    <field name="VIF" start="19" end="19"/>
    <field name="VIP" start="20" end="20"/>
    <field name="ID" start="21" end="21"/>
  </flags>
  <reg name="rax" bitsize="64" type="int64" regnum="0"/>
  <reg name="rbx" bitsize="64" type="int64"/>
  <reg name="rcx" bitsize="64" type="int64"/>
  <reg name="rdx" bitsize="64" type="int64"/>
  <reg name="rsi" bitsize="64" type="int64"/>
  <reg name="rdi" bitsize="64" type="int64"/>
  <reg name="rbp" bitsize="64" type="data_ptr"/>
  <reg name="rsp" bitsize="64" type="data_ptr"/>
  <reg name="r8" bitsize="64" type="int64"/>
  <reg name="r9" bitsize="64" type="int64"/>
  <reg name="r10" bitsize="64" type="int64"/>
  <reg name="r11" bitsize="64" type="int64"/>
  <reg name="r12" bitsize="64" type="int64"/>
  <reg name="r13" bitsize="64" type="int64"/>
  <reg name="r14" bitsize="64" type="int64"/>
  <reg name="r15" bitsize="64" type="int64"/>
  <reg name="rip" bitsize="64" type="code_ptr" regnum="16"/>
  <reg name="eflags" bitsize="32" type="i386_eflags"/>
  <reg name="cs" bitsize="32" type="int32"/>
  <reg name="ss" bitsize="32" type="int32"/>
  <reg name="ds" bitsize="32" type="int32"/>
  <reg name="es" bitsize="32" type="int32"/>
  <reg name="fs" bitsize="32" type="int32"/>
  <reg name="gs" bitsize="32" type="int32"/>
  <reg name="st0" bitsize="80" type="i387_ext" regnum="24"/>
  <reg name="st1" bitsize="80" type="i387_ext"/>
  <reg name="st2" bitsize="80" type="i387_ext"/>
  <reg name="st3" bitsize="80" type="i387_ext"/>
  <reg name="st4" bitsize="80" type="i387_ext"/>
  <reg name="st5" bitsize="80" type="i387_ext"/>
  <reg name="st6" bitsize="80" type="i387_ext"/>
  <reg name="st7" bitsize="80" type="i387_ext"/>
  <reg name="fctrl" bitsize="32" type="int" group="float" regnum="32"/>
  <reg name="fstat" bitsize="32" type="int" group="float"/>
  <reg name="ftag" bitsize="32" type="int" group="float"/>
  <reg name="fiseg" bitsize="32" type="int" group="float"/>
  <reg name="fioff" bitsize="32" type="int" group="float"/>
  <reg name="foseg" bitsize="32" type="int" group="float"/>
  <reg name="fooff" bitsize="32" type="int" group="float"/>
  <reg name="fop" bitsize="32" type="int" group="float"/>
</feature>
<feature name="org.gnu.gdb.i386.sse">
  <vector id="v4f" type="ieee_single" count="4"/>
  <vector id="v2d" type="ieee_double" count="2"/>
  <vector id="v16i8" type="int8" count="16"/>
  <vector id="v8i16" type="int16" count="8"/>
  <vector id="v4i32" type="int32" count="4"/>
  <vector id="v2i64" type="int64" count="2"/>
  <union id="vec128">
    <field name="v4_float" type="v4f"/>
    <field name="v2_double" type="v2d"/>
    <field name="v16_int8" type="v16i8"/>
    <field name="v8_int16" type="v8i16"/>
    <field name="v4_int32" type="v4i32"/>
    <field name="v2_int64" type="v2i64"/>
    <field name="uint128" type="uint128"/>
  </union>
  <flags id="i386_mxcsr" size="4">
    <field name="IE" start="0" end="0"/>
    <field name="DE" start="1" end="1"/>
    <field name="ZE" start="2" end="2"/>
    <field name="OE" start="3" end="3"/>
    <field name="UE" start="4" end="4"/>
    <field name="PE" start="5" end="5"/>
    <field name="DAZ" start="6" end="6"/>
    <field name="IM" start="7" end="7"/>
    <field name="DM" start="8" end="8"/>
    <field name="ZM" start="9" end="9"/>
    <field name="OM" start="10" end="10"/>
    <field name="UM" start="11" end="11"/>
    <field name="PM" start="12" end="12"/>
    <field name="FZ" start="15" end="15"/>
  </flags>
  <reg name="xmm0" bitsize="128" type="vec128" regnum="40"/>
  <reg name="xmm1" bitsize="128" type="vec128"/>
  <reg name="xmm2" bitsize="128" type="vec128"/>
  <reg name="xmm3" bitsize="128" type="vec128"/>
  <reg name="xmm4" bitsize="128" type="vec128"/>
  <reg name="xmm5" bitsize="128" type="vec128"/>
  <reg name="xmm6" bitsize="128" type="vec128"/>
  <reg name="xmm7" bitsize="128" type="vec128"/>
  <reg name="xmm8" bitsize="128" type="vec128"/>
  <reg name="xmm9" bitsize="128" type="vec128"/>
  <reg name="xmm10" bitsize="128" type="vec128"/>
  <reg name="xmm11" bitsize="128" type="vec128"/>
  <reg name="xmm12" bitsize="128" type="vec128"/>
  <reg name="xmm13" bitsize="128" type="vec128"/>
  <reg name="xmm14" bitsize="128" type="vec128"/>
  <reg name="xmm15" bitsize="128" type="vec128"/>
  <reg name="mxcsr" bitsize="32" type="i386_mxcsr" group="vector" regnum="56"/>
</feature>
<feature name="org.gnu.gdb.i386.segments">
  <reg name="fs_base" bitsize="64" type="int" regnum="57"/>
  <reg name="gs_base" bitsize="64" type="int"/>
</feature>
<feature name="org.pintos.x86-64.sys">
  <flags id="x86_cr0" size="8">
    <field name="PE" start="0" end="0"/>
    <field name="MP" start="1" end="1"/>
    <field name="EM" start="2" end="2"/>
    <field name="TS" start="3" end="3"/>
    <field name="ET" start="4" end="4"/>
    <field name="NE" start="5" end="5"/>
    <field name="WP" start="16" end="16"/>
    <field name="AM" start="18" end="18"/>
    <field name="NW" start="29" end="29"/>
    <field name="CD" start="30" end="30"/>
    <field name="PG" start="31" end="31"/>
  </flags>
  <flags id="x86_cr4" size="8">
    <field name="VME" start="0" end="0"/>
    <field name="PVI" start="1" end="1"/>
    <field name="TSD" start="2" end="2"/>
    <field name="DE" start="3" end="3"/>
    <field name="PSE" start="4" end="4"/>
    <field name="PAE" start="5" end="5"/>
    <field name="MCE" start="6" end="6"/>
    <field name="PGE" start="7" end="7"/>
    <field name="PCE" start="8" end="8"/>
    <field name="OSFXSR" start="9" end="9"/>
    <field name="OSXMMEXCPT" start="10" end="10"/>
    <field name="UMIP" start="11" end="11"/>
    <field name="LA57" start="12" end="12"/>
    <field name="VMXE" start="13" end="13"/>
    <field name="SMXE" start="14" end="14"/>
    <field name="FSGSBASE" start="16" end="16"/>
    <field name="PCIDE" start="17" end="17"/>
    <field name="OSXSAVE" start="18" end="18"/>
    <field name="SMEP" start="20" end="20"/>
    <field name="SMAP" start="21" end="21"/>
    <field name="PKE" start="22" end="22"/>
  </flags>
  <flags id="x86_efer" size="8">
    <field name="SCE" start="0" end="0"/>
    <field name="LME" start="8" end="8"/>
    <field name="LMA" start="10" end="10"/>
    <field name="NXE" start="11" end="11"/>
  </flags>
  <reg name="k_gs_base" bitsize="64" type="data_ptr" regnum="59"/>
  <reg name="cr0" bitsize="64" type="x86_cr0"/>
  <reg name="cr2" bitsize="64" type="data_ptr"/>
  <reg name="cr3" bitsize="64" type="uint64"/>
  <reg name="cr4" bitsize="64" type="x86_cr4"/>
  <reg name="cr8" bitsize="64" type="uint64"/>
  <reg name="efer" bitsize="64" type="x86_efer"/>
</feature>
</target>
"#;

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of attribute `name` in a tag's text, if present.
    fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
        let key = format!(" {name}=\"");
        let start = tag.find(&key)? + key.len();
        Some(&tag[start..start + tag[start..].find('"')?])
    }

    /// Every `<reg .../>` of the description: (name, bitsize, regnum if given), in order.
    fn xml_regs() -> Vec<(String, usize, Option<usize>)> {
        TARGET_XML
            .split("<reg ")
            .skip(1)
            .map(|rest| {
                let tag = &rest[..rest.find("/>").expect("unterminated <reg")];
                let tag = format!(" {tag}");
                let name = attr(&tag, "name").expect("reg without name").to_string();
                let bits = attr(&tag, "bitsize").expect("reg without bitsize").parse().unwrap();
                let regnum = attr(&tag, "regnum").map(|n| n.parse().unwrap());
                (name, bits, regnum)
            })
            .collect()
    }

    fn serialize(regs: &SysRegs) -> Vec<u8> {
        let mut out = Vec::new();
        regs.gdb_serialize(|b| out.push(b.expect("every register is available")));
        out
    }

    fn sample() -> SysRegs {
        let mut r = SysRegs::default();
        for (i, g) in r.core.regs.iter_mut().enumerate() {
            *g = 0x0101_0101_0000_0000 * (i as u64 + 1) + i as u64;
        }
        r.core.rip = 0xffff_8000_0040_1000;
        r.core.eflags = 0x246;
        r.core.segments.cs = 8;
        r.core.segments.ss = 0x10;
        r.core.segments.ds = 0x18;
        r.core.segments.es = 0x20;
        r.core.segments.fs = 0x28;
        r.core.segments.gs = 0x30;
        for (i, st) in r.core.st.iter_mut().enumerate() {
            *st = [i as u8 + 1; 10];
            st[9] = 0x40 + i as u8;
        }
        r.core.fpu.fctrl = 0x37f;
        r.core.fpu.fstat = 0x1234;
        r.core.fpu.ftag = 0xffff;
        r.core.fpu.fiseg = 0x33;
        r.core.fpu.fioff = 0xdead;
        r.core.fpu.foseg = 0x2b;
        r.core.fpu.fooff = 0xbeef;
        r.core.fpu.fop = 0x7ff;
        for (i, x) in r.core.xmm.iter_mut().enumerate() {
            *x = u128::MAX / (i as u128 + 3);
        }
        r.core.mxcsr = 0x1f80;
        r.fs_base = 0x5000;
        r.gs_base = 0x6000;
        r.k_gs_base = 0xffff_8000_0000_7000;
        r.cr0 = 0x8000_0011;
        r.cr2 = 0xc000_1234;
        r.cr3 = 0x123_4000;
        r.cr4 = 0x20;
        r.cr8 = 0xf;
        r.efer = 0x500;
        r
    }

    #[test]
    fn round_trips_every_field() {
        let before = sample();
        let bytes = serialize(&before);
        let mut after = SysRegs::default();
        after.gdb_deserialize(&bytes).unwrap();
        assert_eq!(after, before);
        assert_eq!(after.pc(), 0xffff_8000_0040_1000);
    }

    #[test]
    fn extras_follow_the_core_in_description_order() {
        let bytes = serialize(&sample());
        let extra: Vec<u64> = bytes[CORE_BYTES..].chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect();
        assert_eq!(extra, [0x5000, 0x6000, 0xffff_8000_0000_7000, 0x8000_0011, 0xc000_1234, 0x123_4000, 0x20, 0xf, 0x500]);
        let names: Vec<String> = xml_regs().into_iter().map(|(n, _, _)| n).collect();
        assert_eq!(names.len(), FIRST_EXTRA + EXTRA_NAMES.len());
        assert_eq!(names[FIRST_EXTRA..], EXTRA_NAMES);
        assert_eq!(names[..4], ["rax", "rbx", "rcx", "rdx"]);
        assert_eq!(names[16], "rip");
        assert_eq!(names[FIRST_EXTRA - 1], "mxcsr");
    }

    #[test]
    fn serialized_length_is_the_sum_of_the_bitsizes() {
        let bits: usize = xml_regs().iter().map(|(_, b, _)| b).sum();
        assert_eq!(bits % 8, 0);
        assert_eq!(serialize(&SysRegs::default()).len(), bits / 8);
        assert_eq!(G_PACKET_BYTES, bits / 8);
    }

    #[test]
    fn explicit_regnums_match_the_position() {
        for (i, (name, _, regnum)) in xml_regs().into_iter().enumerate() {
            if let Some(n) = regnum {
                assert_eq!(n, i, "{name}");
            }
        }
    }

    #[test]
    fn reg_ids_match_the_description() {
        for (i, (name, bits, _)) in xml_regs().into_iter().enumerate() {
            let (_, size) = SysRegId::from_raw_id(i).unwrap_or_else(|| panic!("no RegId for {name} ({i})"));
            assert_eq!(size.unwrap().get() * 8, bits, "{name}");
        }
        assert!(SysRegId::from_raw_id(FIRST_EXTRA + EXTRA_NAMES.len()).is_none());
        assert!(matches!(SysRegId::from_raw_id(62), Some((SysRegId::Cr3, _))));
    }

    #[test]
    fn wrong_lengths_are_rejected_without_changing_anything() {
        let good = serialize(&sample());
        let mut regs = SysRegs::default();
        assert_eq!(regs.gdb_deserialize(&good[..good.len() - 1]), Err(()));
        assert_eq!(regs.gdb_deserialize(&[good.as_slice(), &[0]].concat()), Err(()));
        assert_eq!(regs.gdb_deserialize(&good[..CORE_BYTES]), Err(()));
        assert_eq!(regs.gdb_deserialize(&[]), Err(()));
        assert_eq!(regs, SysRegs::default());
    }

    #[test]
    fn description_names_the_system_registers() {
        let xml = X86_64Sys::target_description_xml().unwrap();
        assert!(xml.contains(r#"name="cr3""#));
        assert!(xml.contains(r#"name="fs_base""#));
        assert!(xml.contains("<architecture>i386:x86-64</architecture>"));
        for feature in ["org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse", "org.gnu.gdb.i386.segments"] {
            assert!(xml.contains(&format!(r#"<feature name="{feature}">"#)), "{feature}");
        }
        assert_eq!(xml.matches("<feature ").count(), xml.matches("</feature>").count());
    }
}
