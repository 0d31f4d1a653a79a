//! The board-file sections that plant board-side causes: `[option_bytes]`, the chip's option bytes at power-on
//! (and a stale FLASH_OPTCR/OPTCR1); `[serial]`, the serial-number formula the ROM uses; and `[faults]`,
//! misbehaviour drawn at random. Every key is optional and its default reproduces the healthy board exactly
//! (factory option bytes, ST's serial, no faults, no extra random draws).

use serde::Deserialize;

/// `[option_bytes]`: the user option bytes the board holds at power-on, as read over DFU at 0x1FFF0000 and
/// loaded into FLASH_OPTCR/OPTCR1 (reference §4.2–4.3: bit positions [C] CMSIS, block layout [C3]). Defaults
/// are the factory values (`FF AA 00 55 … FF FF 00 00 … 80 00 7F FF … 40 00 BF FF …`, OPTCR 0xC0FFAAFD,
/// OPTCR1 0x00400080 [C3] BMP). The F74x is single-bank: the nDBANK and nDBOOT bits are F76x/F77x only and do not
/// exist here.
///
/// Effects the model follows: RDP other than 0xAA refuses flash/OTP reads, writes and erases with errVENDOR
/// (level 1 [C] AN3156; level 2 is treated the same — what silicon also does at level 2 is not in the
/// reference notes and not modelled); the boot address (`boot_add1` with BOOT0 high, `boot_add0` with it low)
/// must be 0x0040 for the ROM bootloader to run [C] AN2606 pattern 8, any other value runs user code at
/// `value << 14` and never enumerates [I]; a cleared nWRP bit write-protects its sector (see
/// [`crate::config::BootloaderConfig::write_protected_status`]). BOR, watchdog and reset-on-stop/standby bits
/// only show in the block and the registers (no supply or watchdog model).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OptionBytesConfig {
    /// RDP: 0xAA level 0, 0xCC level 2, anything else level 1 [C3].
    pub rdp: u8,
    /// BOR_LEV[1:0] as the raw field (0..=3); 3 is the factory value [C3] (0b11 = BOR off [U]).
    pub bor_lev: u8,
    /// WWDG_SW (USER bit 4): true = software window watchdog.
    pub wwdg_sw: bool,
    /// IWDG_SW (USER bit 5): true = software independent watchdog.
    pub iwdg_sw: bool,
    /// nRST_STOP (USER bit 6).
    pub nrst_stop: bool,
    /// nRST_STDBY (USER bit 7).
    pub nrst_stdby: bool,
    /// IWDG_STDBY (OPTCR bit 30; bit 6 of the nWRP slot's second byte).
    pub iwdg_stdby: bool,
    /// IWDG_STOP (OPTCR bit 31; bit 7 of that byte).
    pub iwdg_stop: bool,
    /// nWRP[7:0]: bit i cleared write-protects flash sector i [I] (active low, as the name says).
    pub nwrp: u8,
    /// BOOT_ADD0 (boot address = value << 14) used with BOOT0 low: 0x0080 = ITCM flash 0x00200000.
    pub boot_add0: u16,
    /// BOOT_ADD1 used with BOOT0 high: 0x0040 = system memory 0x00100000, the ROM bootloader.
    pub boot_add1: u16,
    /// Plants FLASH_OPTCR/OPTCR1 that disagree with the block read over DFU; absent, they agree.
    pub loaded: Option<LoadedOptionBytes>,
}

/// `[option_bytes.loaded]`: the values FLASH_OPTCR/OPTCR1 show instead of the block's. Each key missing here
/// takes the `[option_bytes]` value, so `rdp = 0x55` alone makes only RDP disagree.
///
/// How a board could get there (a guess [U], no capture shows it): option bytes were programmed (the block
/// changed) but not reloaded, so the registers still hold the values loaded at the last reset. Only the
/// registers differ: read protection, write protection and boot selection follow `[option_bytes]` [U].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoadedOptionBytes {
    pub rdp: Option<u8>,
    pub bor_lev: Option<u8>,
    pub wwdg_sw: Option<bool>,
    pub iwdg_sw: Option<bool>,
    pub nrst_stop: Option<bool>,
    pub nrst_stdby: Option<bool>,
    pub iwdg_stdby: Option<bool>,
    pub iwdg_stop: Option<bool>,
    pub nwrp: Option<u8>,
    pub boot_add0: Option<u16>,
    pub boot_add1: Option<u16>,
    /// When the registers are reloaded from the block.
    pub until: Reload,
}

/// When a stale FLASH_OPTCR/OPTCR1 ([`LoadedOptionBytes`]) is reloaded from the option bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reload {
    /// At the board's next reset of any kind after its first power-on (power cycle, NRST, software reset):
    /// the registers disagree during the first boot only, as after programming without a reload.
    #[default]
    Reset,
    /// Only when the option bytes are programmed over DFU (an option-byte write or Read Unprotect, which reset
    /// the chip): the disagreement survives power cycles, so every soak cycle sees it [U].
    Programmed,
}

impl Default for OptionBytesConfig {
    fn default() -> Self {
        OptionBytesConfig {
            rdp: 0xAA,
            bor_lev: 3,
            wwdg_sw: true,
            iwdg_sw: true,
            nrst_stop: true,
            nrst_stdby: true,
            iwdg_stdby: true,
            iwdg_stop: true,
            nwrp: 0xFF,
            boot_add0: 0x0080,
            boot_add1: 0x0040,
            loaded: None,
        }
    }
}

impl OptionBytesConfig {
    /// The values the registers show: `loaded`'s where given, these otherwise (no `loaded` of its own).
    pub fn loaded_values(&self) -> Option<(OptionBytesConfig, Reload)> {
        let l = self.loaded.as_ref()?;
        let values = OptionBytesConfig {
            rdp: l.rdp.unwrap_or(self.rdp),
            bor_lev: l.bor_lev.unwrap_or(self.bor_lev),
            wwdg_sw: l.wwdg_sw.unwrap_or(self.wwdg_sw),
            iwdg_sw: l.iwdg_sw.unwrap_or(self.iwdg_sw),
            nrst_stop: l.nrst_stop.unwrap_or(self.nrst_stop),
            nrst_stdby: l.nrst_stdby.unwrap_or(self.nrst_stdby),
            iwdg_stdby: l.iwdg_stdby.unwrap_or(self.iwdg_stdby),
            iwdg_stop: l.iwdg_stop.unwrap_or(self.iwdg_stop),
            nwrp: l.nwrp.unwrap_or(self.nwrp),
            boot_add0: l.boot_add0.unwrap_or(self.boot_add0),
            boot_add1: l.boot_add1.unwrap_or(self.boot_add1),
            loaded: None,
        };
        Some((values, l.until))
    }
}

/// `[faults]`: the fault injection of [`crate::Fault`] as probabilities, drawn from the board's seed (its own
/// stream, reseeded by [`crate::Board::reseed`], so other draws are unchanged). Each is 0..=1; 0 (the default)
/// never fires and draws nothing. These plant causes; they are not facts about the ROM.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultsConfig {
    /// Each transfer that reaches the device is stalled without being acted on.
    pub stall_per_transfer: f64,
    /// Each transfer gets no answer at all (the host times out); not acted on.
    pub no_response_per_transfer: f64,
    /// After each answered transfer the device leaves the bus until the next boot.
    pub disconnect_per_transfer: f64,
    /// After each answered transfer the device resets and re-attaches as a new boot (software reset).
    pub re_enumerate_per_transfer: f64,
    /// Each DFU_GETSTATUS answers a short payload (3 of 6 bytes); the device did act.
    pub corrupt_status_per_getstatus: f64,
    /// At each boot the ROM gets stuck: every DFU_GETSTATUS answers dfuDNBUSY with `stuck_busy_poll_ms` until
    /// the next boot; nothing pending executes.
    pub stuck_busy_per_boot: f64,
    /// bwPollTimeout of a stuck boot's replies, ms (0 allowed: dfu-util gives up after 100 such polls).
    pub stuck_busy_poll_ms: u32,
}

/// Which formula the ROM's iSerialNumber follows (reference §3). Only `st` is the F746's [C]/[C3]; the others
/// are what other ROMs or tools were seen to do, planted to make a board report a *wrong* serial.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SerialFormula {
    /// ST's: 8 hex digits of UID0 + UID2 (32-bit, wrapping), then the top 4 hex digits of UID1 [C] CUBE,
    /// [C3] the ROM (libopencm3 #760).
    #[default]
    St,
    /// micropython's byte-wise variant: bytes `id[11], id[10]+id[2], id[9], id[8]+id[0], id[7], id[6]` of the
    /// UID, each sum wrapping at 8 bits (no carries) [C3].
    Bytewise,
    /// The F3 ROM's: as `st` but the last 4 digits are UID2's top 16 bits [C3] libopencm3 #760.
    Uid2Msb,
    /// The F765 report: ST's string with byte `byte` (1..=6, counted left to right in the 12-digit string)
    /// increased by `add` (wrapping) [C3] micropython #15948 (+0x0A to the 4th byte; which byte counts as the
    /// 4th is [U]).
    Offset,
    /// A constant string `value` (the F723/F722 ROM reports "STM32FxSTM32") [C3].
    Constant,
    /// A new random 12-digit serial at every power-on, drawn from the board's seed (L496 ROM) [C3]; a pin or
    /// software reset keeps it [U].
    PerBoot,
}

/// `[serial]`: the formula behind the serial number the board reports. The host side keeps expecting ST's
/// formula ([`crate::Board::usb_serial_expected`]); only what the board reports changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SerialConfig {
    pub formula: SerialFormula,
    /// With `formula = "offset"`: which byte of the string (1..=6); default 4.
    pub byte: Option<u8>,
    /// With `formula = "offset"`: what is added to it; default 0x0A.
    pub add: Option<u8>,
    /// With `formula = "constant"`: the string; default "STM32FxSTM32".
    pub value: Option<String>,
}

impl SerialConfig {
    /// The offset formula's byte (1-based) and addend.
    pub fn offset(&self) -> (u8, u8) {
        (self.byte.unwrap_or(4), self.add.unwrap_or(0x0A))
    }

    /// The constant formula's string.
    pub fn constant(&self) -> &str {
        self.value.as_deref().unwrap_or("STM32FxSTM32")
    }
}
