//! The text form of a [`ClocksReport`], for an engineer to read at a glance: what the chip is, what the RCC
//! says, what that means (verdict, USB clock error), what was measured, and the raw words last.

use std::io::{self, Write};

use super::decode::{PllSource, UsbClockSource};
use super::ClocksReport;

mod derived;

use derived::{derived, measured};

/// Writes the report as aligned "label  value" lines.
pub fn render_text(out: &mut impl Write, r: &ClocksReport) -> io::Result<()> {
    identity(out, r)?;
    writeln!(out)?;
    decoded(out, r)?;
    writeln!(out)?;
    derived(out, r)?;
    measured(out, r)?;
    writeln!(out)?;
    registers(out, r)
}

fn on(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

fn ready(b: bool) -> &'static str {
    if b {
        " ready"
    } else {
        " not ready"
    }
}

fn identity(out: &mut impl Write, r: &ClocksReport) -> io::Result<()> {
    let id = &r.snapshot.identity;
    let t = &r.snapshot.target;
    writeln!(out, "Board         {}", r.board)?;
    let mismatch = if id.dev_id == t.expected_dev_id {
        String::new()
    } else {
        format!(" (NOT {}'s {:#05X})", t.name, t.expected_dev_id)
    };
    writeln!(
        out,
        "Chip          DEV_ID {:#05X}{mismatch} rev {} ({:#06X}), flash {} KB, bootloader {} (ID {:#04X})",
        id.dev_id, id.revision, id.rev_id, id.flash_size_kb, id.bootloader_version, id.bootloader_id
    )?;
    let [u0, u1, u2] = id.uid;
    writeln!(out, "UID           {u0:08X} {u1:08X} {u2:08X}")?;
    let a = &r.attach;
    let mut when = format!("at {:.1} ms", a.attached_at_ms);
    if let Some(after) = a.after_usb_attach_ms {
        when += &format!(", {after:.1} ms after the bootloader attached to USB");
    }
    if a.connect_under_reset {
        when += ", connected under reset";
    }
    writeln!(out, "Read through  {} {when}", a.path.describe())?;
    if let (Some(before), Some(after)) = (a.dfu_present_before, a.dfu_present_after) {
        let seen = |p: bool| if p { "enumerated" } else { "absent" };
        writeln!(
            out,
            "DFU device    {} before the probe attached, {} after",
            seen(before),
            seen(after)
        )?;
    }
    Ok(())
}

fn decoded(out: &mut impl Write, r: &ClocksReport) -> io::Result<()> {
    let c = &r.snapshot.rcc;
    let p = &c.pll;
    writeln!(
        out,
        "Oscillators   HSI {}{}, HSITRIM {}, HSICAL {:#04X} | HSE {}{}, bypass {} | CSS {}",
        on(c.hsi_on),
        ready(c.hsi_ready),
        c.hsitrim,
        c.hsical,
        on(c.hse_on),
        ready(c.hse_ready),
        on(c.hse_bypass),
        on(c.css_on)
    )?;
    let source = match p.source {
        PllSource::Hse => "HSE",
        PllSource::Hsi => "HSI",
    };
    writeln!(
        out,
        "PLL           {}{}, source {source}, M {}, N {}, P /{}, Q {}",
        on(c.pll_on),
        ready(c.pll_ready),
        p.m,
        p.n,
        p.p,
        p.q
    )?;
    writeln!(
        out,
        "System clock  {} (SW {}), AHB /{}, APB1 /{}, APB2 /{}, RTCPRE {}",
        c.sysclk_source.name(),
        c.sysclk_switch.name(),
        c.ahb_div,
        c.apb1_div,
        c.apb2_div,
        c.rtcpre
    )?;
    let usb = match c.usb_clock_source {
        UsbClockSource::PllQ => "PLL Q (CK48MSEL 0)",
        UsbClockSource::PllsaiP => "PLLSAI P (CK48MSEL 1)",
    };
    writeln!(out, "USB clock     from {usb}")?;
    let f = &r.snapshot.flash;
    writeln!(
        out,
        "Flash         {} wait states, ART {}, prefetch {}",
        f.latency_ws,
        on(f.art),
        on(f.prefetch)
    )?;
    let flags = c.reset_flags.names();
    let flags = if flags.is_empty() {
        "none".to_string()
    } else {
        flags.join(" ")
    };
    writeln!(out, "Reset flags   {flags}")?;
    option_bytes(out, r)
}

fn option_bytes(out: &mut impl Write, r: &ClocksReport) -> io::Result<()> {
    let o = &r.snapshot.option_bytes;
    let sw = |b: bool| if b { "sw" } else { "hw" };
    writeln!(
        out,
        "Option bytes  RDP {:#04X} (level {}), BOR {}, WWDG {}, IWDG {}, nRST_STOP {}, nRST_STDBY {}, nWRP {:#04X}",
        o.rdp,
        o.rdp_level,
        o.bor_name(),
        sw(o.wwdg_sw),
        sw(o.iwdg_sw),
        u8::from(o.nrst_stop),
        u8::from(o.nrst_stdby),
        o.nwrp
    )?;
    writeln!(
        out,
        "              IWDG_STDBY {}, IWDG_STOP {}, BOOT_ADD0 {:#06X} ({:#010X}), BOOT_ADD1 {:#06X} ({:#010X})",
        u8::from(o.iwdg_stdby),
        u8::from(o.iwdg_stop),
        o.boot_add0,
        u32::from(o.boot_add0) << 14,
        o.boot_add1,
        u32::from(o.boot_add1) << 14
    )
}

fn registers(out: &mut impl Write, r: &ClocksReport) -> io::Result<()> {
    let w = &r.snapshot.raw;
    writeln!(
        out,
        "Registers     RCC_CR {:08X}  RCC_PLLCFGR {:08X}  RCC_CFGR {:08X}  RCC_CSR {:08X}",
        w.rcc_cr, w.rcc_pllcfgr, w.rcc_cfgr, w.rcc_csr
    )?;
    writeln!(
        out,
        "              RCC_DCKCFGR2 {:08X}  FLASH_ACR {:08X}  FLASH_OPTCR {:08X}  FLASH_OPTCR1 {:08X}",
        w.rcc_dckcfgr2, w.flash_acr, w.flash_optcr, w.flash_optcr1
    )?;
    writeln!(out, "              DBGMCU_IDCODE {:08X}", w.dbgmcu_idcode)
}
