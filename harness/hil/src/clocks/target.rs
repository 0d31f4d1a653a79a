//! Target description files (`fixtures/targets/*.toml`): where one STM32 family keeps the registers that
//! [`super::read_snapshot`] reads. Data, not code: another family is another file. Parsed with
//! `deny_unknown_fields` and checked (alignment, ranges) into a [`TargetDescription`]; errors name the file,
//! line and key through `tomlfile`.

use std::path::Path;

use serde::{Deserialize, Serialize};
use tomlfile::{KeyPath, Source};

use super::ClockError;

/// The built-in STM32F7 description: the same text as `fixtures/targets/stm32f7.toml`.
const STM32F7: &str = include_str!("../../../../fixtures/targets/stm32f7.toml");

/// One STM32 family as the clock reader sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetDescription {
    pub name: String,
    pub description: String,
    /// Default probe-rs target name (`--chip`).
    pub probe_rs_chip: String,
    /// Expected DBGMCU_IDCODE.DEV_ID.
    pub dev_id: u16,
    /// HSI nominal frequency, Hz.
    pub hsi_hz: u32,
    pub registers: Registers,
    pub identity: IdentityAddresses,
    pub debug: DebugAddresses,
    pub memory: MemoryMap,
    pub bootloader: BootloaderFacts,
}

/// Where the memories the harness writes live: flash for images, and the areas whose writes cannot be undone
/// or change how the chip boots — the option bytes (with the RDP byte a write must never set to level 2),
/// the OTP area and its lock bytes, and the DfuSe device-feature bytes. The flash guards decide by these
/// addresses, whatever the device names its alt settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryMap {
    pub flash_base: u32,
    pub flash_size: u32,
    /// Offset of the RDP byte in the option-byte block.
    pub rdp_offset: u32,
    pub option_bytes: Area,
    pub otp: Area,
    pub otp_lock: Area,
    pub device_feature: Area,
}

/// An address range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Area {
    pub base: u32,
    pub size: u32,
}

impl Area {
    /// Whether `len` bytes at `address` touch this area.
    pub fn overlaps(&self, address: u32, len: usize) -> bool {
        let (start, end) = (u64::from(address), u64::from(address) + len as u64);
        let (base, top) = (
            u64::from(self.base),
            u64::from(self.base) + u64::from(self.size),
        );
        start < top && base < end
    }
}

/// 32-bit registers read as words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registers {
    pub rcc_cr: u32,
    pub rcc_pllcfgr: u32,
    pub rcc_cfgr: u32,
    pub rcc_csr: u32,
    pub rcc_dckcfgr2: u32,
    pub flash_acr: u32,
    pub flash_optcr: u32,
    pub flash_optcr1: u32,
    pub dbgmcu_idcode: u32,
}

/// Identity data in system memory: the UID (3 words), the flash size (u16) and the bootloader ID (u8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityAddresses {
    pub uid: u32,
    pub flash_size: u32,
    pub bootloader_id: u32,
}

/// Cortex-M debug registers used by the measurements, and RAM the intrusive HSI measurement may use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DebugAddresses {
    /// The memory access port (ADIv5 AP index) for reads that do not go through a core.
    pub access_port: u8,
    pub demcr: u32,
    pub dwt_ctrl: u32,
    pub dwt_cyccnt: u32,
    pub scratch_ram: u32,
}

/// What the family's ROM bootloader does with the clocks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootloaderFacts {
    /// PLL input the ROM aims for (HSE / PLLM), Hz.
    pub pll_input_hz: u32,
    /// USB clock tolerance, ppm.
    pub usb_tolerance_ppm: f64,
}

impl TargetDescription {
    /// The built-in STM32F74x/75x description.
    pub fn stm32f7() -> TargetDescription {
        // Parsed once: the soak, the scenario loader and the DFU safety check all ask for it.
        static BUILT_IN: std::sync::OnceLock<TargetDescription> = std::sync::OnceLock::new();
        BUILT_IN
            .get_or_init(|| {
                // Compiled in and covered by a test; failing here is a build defect, not an input error.
                Self::from_toml_str(STM32F7, "stm32f7.toml (built in)")
                    .expect("the built-in target description is valid")
            })
            .clone()
    }

    /// Reads and checks a target description file.
    pub fn load(path: &Path) -> Result<TargetDescription, ClockError> {
        Ok(Self::from_source(&Source::read_as(
            path,
            "target description",
        )?)?)
    }

    /// Parses and checks target-description text; `origin` names it in errors.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<TargetDescription, ClockError> {
        Ok(Self::from_source(&Source::new(
            text.to_string(),
            Path::new(origin),
        ))?)
    }

    fn from_source(src: &Source) -> Result<TargetDescription, tomlfile::FileError> {
        let target: TargetDescription = src.parse()?;
        target
            .check()
            .map_err(|(key, message)| src.invalid(&KeyPath::dotted(key), message))?;
        Ok(target)
    }

    /// The first failed check: the dotted key and what is wrong with its value.
    fn check(&self) -> Result<(), (&'static str, String)> {
        let r = &self.registers;
        let d = &self.debug;
        let words = [
            ("registers.rcc_cr", r.rcc_cr),
            ("registers.rcc_pllcfgr", r.rcc_pllcfgr),
            ("registers.rcc_cfgr", r.rcc_cfgr),
            ("registers.rcc_csr", r.rcc_csr),
            ("registers.rcc_dckcfgr2", r.rcc_dckcfgr2),
            ("registers.flash_acr", r.flash_acr),
            ("registers.flash_optcr", r.flash_optcr),
            ("registers.flash_optcr1", r.flash_optcr1),
            ("registers.dbgmcu_idcode", r.dbgmcu_idcode),
            ("identity.uid", self.identity.uid),
            ("debug.demcr", d.demcr),
            ("debug.dwt_ctrl", d.dwt_ctrl),
            ("debug.dwt_cyccnt", d.dwt_cyccnt),
            ("debug.scratch_ram", d.scratch_ram),
        ];
        if let Some((key, addr)) = words.iter().find(|(_, a)| !a.is_multiple_of(4)) {
            return Err((key, format!("{addr:#010X} is not word aligned")));
        }
        if !self.identity.flash_size.is_multiple_of(2) {
            return Err(("identity.flash_size", "a u16 needs an even address".into()));
        }
        if self.memory.flash_size == 0 {
            return Err(("memory.flash_size", "must not be 0".into()));
        }
        if self
            .memory
            .flash_base
            .checked_add(self.memory.flash_size - 1)
            .is_none()
        {
            return Err((
                "memory.flash_size",
                "runs past the end of the address space".into(),
            ));
        }
        if self.hsi_hz == 0 {
            return Err(("hsi_hz", "must not be 0".into()));
        }
        if self.bootloader.pll_input_hz == 0 {
            return Err(("bootloader.pll_input_hz", "must not be 0".into()));
        }
        let tolerance = self.bootloader.usb_tolerance_ppm;
        if tolerance.is_nan() || tolerance <= 0.0 {
            return Err(("bootloader.usb_tolerance_ppm", "must be positive".into()));
        }
        Ok(())
    }
}
