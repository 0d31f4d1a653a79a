//! Range and consistency checks on a parsed board file. Each failure names the dotted key it is about.

use super::causes::SerialFormula;
use super::sections::BoardConfig;
use crate::dfu::DfuStatus;

/// A failed check: the dotted key and what is wrong with its value.
pub(crate) type Failure = (&'static str, String);

/// Largest bwPollTimeout the 24-bit GETSTATUS field can carry, in ms.
pub(crate) const MAX_POLL_MS: u32 = 0x00FF_FFFF;

/// Checks every field; returns the first failure in file order.
pub(crate) fn validate(c: &BoardConfig) -> Result<(), Failure> {
    check(!c.name.trim().is_empty(), "name", "must not be empty")?;
    hse(c)?;
    hsi(c)?;
    range(
        "environment.temperature_c",
        c.environment.temperature_c,
        -40.0,
        125.0,
    )?;
    bootloader(c)?;
    descriptors(c)?;
    check(
        c.memory.device_feature[0] <= 4,
        "memory.device_feature",
        "byte 0 (voltage range) must be 0..=4",
    )?;
    flash_timing(c)?;
    link(c)?;
    option_bytes(c)?;
    serial(c)?;
    faults(c)
}

fn hse(c: &BoardConfig) -> Result<(), Failure> {
    let f = c.hse.frequency_hz;
    check(
        (4_000_000..=26_000_000).contains(&f),
        "hse.frequency_hz",
        "must be 4..=26 MHz (AN2606)",
    )?;
    range("hse.accuracy_ppm", c.hse.accuracy_ppm, 0.0, 1000.0)?;
    range("hse.startup_ms", c.hse.startup_ms, 0.0, 1000.0)
}

fn hsi(c: &BoardConfig) -> Result<(), Failure> {
    let h = &c.hsi;
    range(
        "hsi.factory_error_ppm",
        h.factory_error_ppm,
        -100_000.0,
        100_000.0,
    )?;
    range(
        "hsi.temp_coefficient_ppm_per_c",
        h.temp_coefficient_ppm_per_c,
        -5000.0,
        5000.0,
    )?;
    range("hsi.jitter_ppm", h.jitter_ppm, 0.0, 50_000.0)?;
    check(h.trim <= 31, "hsi.trim", "must be 0..=31 (5-bit field)")?;
    range("hsi.trim_step_ppm", h.trim_step_ppm, 0.0, 50_000.0)
}

fn bootloader(c: &BoardConfig) -> Result<(), Failure> {
    let b = &c.bootloader;
    let timer_ok = (1_000_000..=216_000_000).contains(&b.measure_timer_hz);
    check(
        timer_ok,
        "bootloader.measure_timer_hz",
        "must be 1..=216 MHz",
    )?;
    check(
        (50..=432).contains(&b.pll_n),
        "bootloader.pll_n",
        "must be 50..=432",
    )?;
    check(
        matches!(b.pll_p, 2 | 4 | 6 | 8),
        "bootloader.pll_p",
        "must be 2, 4, 6 or 8",
    )?;
    check(
        (2..=15).contains(&b.pll_q),
        "bootloader.pll_q",
        "must be 2..=15",
    )?;
    let ahb_ok = matches!(b.ahb_div, 1 | 2 | 4 | 8 | 16 | 64 | 128 | 256 | 512);
    check(
        ahb_ok,
        "bootloader.ahb_div",
        "must be 1, 2, 4, 8, 16, 64, 128, 256 or 512",
    )?;
    check(
        apb_ok(b.apb1_div),
        "bootloader.apb1_div",
        "must be 1, 2, 4, 8 or 16",
    )?;
    check(
        apb_ok(b.apb2_div),
        "bootloader.apb2_div",
        "must be 1, 2, 4, 8 or 16",
    )?;
    check(b.rtcpre <= 31, "bootloader.rtcpre", "must be 0..=31")?;
    range(
        "bootloader.attach_delay_ms",
        b.attach_delay_ms,
        0.0,
        60_000.0,
    )?;
    host_poll("bootloader.manifest_poll_ms", b.manifest_poll_ms)?;
    host_poll("bootloader.set_address_poll_ms", b.set_address_poll_ms)?;
    let align_ok = matches!(b.write_alignment, 1 | 2 | 4 | 8);
    check(
        align_ok,
        "bootloader.write_alignment",
        "must be 1, 2, 4 or 8",
    )?;
    let n = b.get_commands.len();
    check(
        (1..=16).contains(&n),
        "bootloader.get_commands",
        "must list 1..=16 bytes",
    )?;
    check(
        DfuStatus::from_u8(b.write_protected_status).is_some(),
        "bootloader.write_protected_status",
        "must be a DFU bStatus code 0x00..=0x0F",
    )
}

fn descriptors(c: &BoardConfig) -> Result<(), Failure> {
    let d = &c.descriptors;
    string("descriptors.manufacturer", &d.manufacturer)?;
    string("descriptors.product", &d.product)?;
    for (key, text) in [
        ("descriptors.alt_flash", &d.alt_flash),
        ("descriptors.alt_option_bytes", &d.alt_option_bytes),
        ("descriptors.alt_otp", &d.alt_otp),
        ("descriptors.alt_device_feature", &d.alt_device_feature),
    ] {
        string(key, text)?;
        // The host's own parser is the grammar: a string it cannot read would fail every cycle as `layout`.
        if !d.accept_unparseable_layouts {
            dfuse::MemoryLayout::parse(text).map_err(|e| {
                (
                    key,
                    format!(
                        "is not a DfuSe layout string ({e}); set descriptors.accept_unparseable_layouts = true \
                         to serve it anyway, as a planted ROM defect"
                    ),
                )
            })?;
        }
    }
    check(
        d.max_power_ma <= 510,
        "descriptors.max_power_ma",
        "must be 0..=510",
    )?;
    let size_ok = (64..=4096).contains(&d.transfer_size);
    check(size_ok, "descriptors.transfer_size", "must be 64..=4096")
}

fn flash_timing(c: &BoardConfig) -> Result<(), Failure> {
    let t = &c.flash_timing;
    range(
        "flash_timing.program_us_per_byte",
        t.program_us_per_byte,
        0.0,
        10_000.0,
    )?;
    host_poll("flash_timing.erase_32k_ms", t.erase_32k_ms)?;
    host_poll("flash_timing.erase_128k_ms", t.erase_128k_ms)?;
    host_poll("flash_timing.erase_256k_ms", t.erase_256k_ms)?;
    host_poll("flash_timing.mass_erase_ms", t.mass_erase_ms)?;
    host_poll("flash_timing.option_bytes_ms", t.option_bytes_ms)
}

fn link(c: &BoardConfig) -> Result<(), Failure> {
    let l = &c.link;
    range("link.tolerance_ppm", l.tolerance_ppm, 0.0, 1_000_000.0)?;
    range("link.margin_bits", l.margin_bits, 0.01, 10_000.0)?;
    range("link.shape", l.shape, 0.1, 100.0)?;
    check(
        (1..=10).contains(&l.attempts),
        "link.attempts",
        "must be 1..=10",
    )?;
    range(
        "link.transfer_overhead_us",
        l.transfer_overhead_us,
        0.0,
        1_000_000.0,
    )?;
    probability("link.cable_loss_per_packet", l.cable_loss_per_packet)
}

fn option_bytes(c: &BoardConfig) -> Result<(), Failure> {
    let bor = "must be 0..=3 (BOR_LEV is a 2-bit field)";
    check(c.option_bytes.bor_lev <= 3, "option_bytes.bor_lev", bor)?;
    let loaded = c.option_bytes.loaded.as_ref();
    let loaded_bor = loaded.and_then(|l| l.bor_lev).unwrap_or(0);
    check(loaded_bor <= 3, "option_bytes.loaded.bor_lev", bor)
}

fn serial(c: &BoardConfig) -> Result<(), Failure> {
    let s = &c.serial;
    let offset = s.formula == SerialFormula::Offset;
    let only_offset = "only used with formula = \"offset\"";
    check(offset || s.byte.is_none(), "serial.byte", only_offset)?;
    check(offset || s.add.is_none(), "serial.add", only_offset)?;
    let byte_ok = (1..=6).contains(&s.offset().0);
    check(
        byte_ok,
        "serial.byte",
        "must be 1..=6 (the string is 6 bytes)",
    )?;
    let constant = s.formula == SerialFormula::Constant;
    let only_constant = "only used with formula = \"constant\"";
    check(constant || s.value.is_none(), "serial.value", only_constant)?;
    string("serial.value", s.constant())
}

fn faults(c: &BoardConfig) -> Result<(), Failure> {
    let f = &c.faults;
    probability("faults.stall_per_transfer", f.stall_per_transfer)?;
    probability(
        "faults.no_response_per_transfer",
        f.no_response_per_transfer,
    )?;
    probability("faults.disconnect_per_transfer", f.disconnect_per_transfer)?;
    probability(
        "faults.re_enumerate_per_transfer",
        f.re_enumerate_per_transfer,
    )?;
    probability(
        "faults.corrupt_status_per_getstatus",
        f.corrupt_status_per_getstatus,
    )?;
    probability("faults.stuck_busy_per_boot", f.stuck_busy_per_boot)?;
    poll("faults.stuck_busy_poll_ms", f.stuck_busy_poll_ms)
}

fn apb_ok(div: u8) -> bool {
    matches!(div, 1 | 2 | 4 | 8 | 16)
}

fn check(ok: bool, key: &'static str, message: &str) -> Result<(), Failure> {
    if ok {
        Ok(())
    } else {
        Err((key, message.to_string()))
    }
}

fn range(key: &'static str, value: f64, min: f64, max: f64) -> Result<(), Failure> {
    let ok = value.is_finite() && (min..=max).contains(&value);
    check(ok, key, &format!("{value} is out of range {min}..={max}"))
}

fn probability(key: &'static str, p: f64) -> Result<(), Failure> {
    let ok = p.is_finite() && (0.0..=1.0).contains(&p);
    check(ok, key, &format!("{p} is not a probability (0..=1)"))
}

fn poll(key: &'static str, ms: u32) -> Result<(), Failure> {
    check(
        ms <= MAX_POLL_MS,
        key,
        "must fit the 24-bit bwPollTimeout (<= 16777215 ms)",
    )
}

/// A poll time the bootloader asks for in normal operation: it must fit bwPollTimeout, and the host must be
/// willing to wait that long for one command (else every such command fails as `stuck`, which is a planted
/// fault's job: `faults.stuck_busy_poll_ms`, not a timing's).
fn host_poll(key: &'static str, ms: u32) -> Result<(), Failure> {
    poll(key, ms)?;
    // The host's budget for one command counts the transfers too (the first GETSTATUS is already spent when
    // the device asks for its poll time), so a poll time must leave room for them: a second is ample.
    let budget = dfuse::PollPolicy::default().max_busy;
    let limit = budget.saturating_sub(std::time::Duration::from_secs(1));
    check(
        u128::from(ms) <= limit.as_millis(),
        key,
        &format!(
            "{ms} ms is more than a command may take: the host waits {} s for one, transfers included, so at \
             most {} ms; longer fails every such command as stuck (plant that with faults.stuck_busy_per_boot \
             instead)",
            budget.as_secs(),
            limit.as_millis()
        ),
    )
}

fn string(key: &'static str, s: &str) -> Result<(), Failure> {
    check(
        s.encode_utf16().count() <= 126,
        key,
        "string descriptors hold at most 126 UTF-16 units",
    )
}
