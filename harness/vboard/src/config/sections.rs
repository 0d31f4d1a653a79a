//! The board-file sections as serde structs. Each field's doc says where its default comes from and how sure
//! that is ([C] confirmed, [C3] third-party, [I] inferred, [U] unconfirmed guess). Defaults are the healthy
//! 25 MHz board, so a board file only has to name what differs.

use serde::Deserialize;

use super::causes::{FaultsConfig, OptionBytesConfig, SerialConfig};

/// A parsed and validated board file. Build it with [`BoardConfig::load`], [`BoardConfig::from_toml_str`] or
/// [`BoardConfig::healthy_default`]; fields are public so tests can derive variants (re-check with
/// [`BoardConfig::validate`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardConfig {
    /// Board name, used in reports.
    pub name: String,
    /// Free text for people.
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub hse: HseConfig,
    #[serde(default)]
    pub hsi: HsiConfig,
    #[serde(default)]
    pub environment: EnvironmentConfig,
    #[serde(default)]
    pub bootloader: BootloaderConfig,
    #[serde(default)]
    pub descriptors: DescriptorConfig,
    #[serde(default)]
    pub memory: MemoryConfig,
    #[serde(default)]
    pub flash_timing: FlashTimingConfig,
    #[serde(default)]
    pub link: LinkConfig,
    #[serde(default)]
    pub option_bytes: OptionBytesConfig,
    #[serde(default)]
    pub serial: SerialConfig,
    #[serde(default)]
    pub faults: FaultsConfig,
    #[serde(default)]
    pub debug: DebugConfig,
    #[serde(default)]
    pub supply: SupplyConfig,
}

/// `[supply]`: the current the board draws from a bench supply in each state, mA, as a simulated supply's
/// `MEAS:CURR?` reports it. All guesses [U]: the F746 datasheet gives the chip's run current per clock and
/// peripheral set, not a whole board's with its regulator and LEDs; set these from a measured board.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SupplyConfig {
    /// The ROM bootloader running (PLL at 60 MHz, USB on) [U].
    pub bootloader_ma: f64,
    /// User code running (a jump out of the bootloader) [U].
    pub application_ma: f64,
    /// NRST held low, or a core halted by a debugger [U].
    pub reset_ma: f64,
}

impl Default for SupplyConfig {
    fn default() -> Self {
        SupplyConfig {
            bootloader_ma: 48.0,
            application_ma: 95.0,
            reset_ma: 22.0,
        }
    }
}

/// `[debug]`: what a debug probe reads over SWD that the sources do not settle (docs/probe-facts.md).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DebugConfig {
    /// SW-DP DPIDR: 0x5BA02477 [C3] OpenOCD stm32f7x.cfg, pyOCD log of an F746.
    pub dpidr: u32,
    /// AHB-AP IDR: 0x74770001 [C3] pyOCD log of an F746.
    pub ap_idr: u32,
    /// AHB-AP BASE: the ST ROM table at 0xE00FD000, ADIv5 format, present [C3].
    pub ap_base: u32,
    /// DPv2 TARGETID [U] (TPARTNO 0x449, TDESIGNER ST).
    pub targetid: u32,
    /// CPUID: Cortex-M7 r0p1 [C3] CMSIS `__CM7_REV`, OpenOCD log.
    pub cpuid: u32,
    /// PC and SP a halt finds in the running bootloader [U]: somewhere in system memory, and in SRAM.
    pub halt_pc: u32,
    pub halt_sp: u32,
    /// The debug power domain answers CDBGPWRUPREQ; false plants a target whose debug domain never powers up.
    pub powers_up: bool,
    /// Planted: every access-port transfer is answered with this ACK (`ok`, the default; `wait` or `fault` for
    /// ever), as a broken SWD link or a wedged AP would.
    pub ap_ack: PlantedAck,
}

/// The ACK a planted SWD fault answers every access-port transfer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PlantedAck {
    #[default]
    Ok,
    Wait,
    Fault,
}

impl Default for DebugConfig {
    fn default() -> Self {
        DebugConfig {
            dpidr: 0x5BA0_2477,
            ap_idr: 0x7477_0001,
            ap_base: 0xE00F_D003,
            targetid: 0x0044_9041,
            cpuid: 0x410F_C271,
            halt_pc: 0x1FF0_9A2C,
            halt_sp: 0x2000_4F88,
            powers_up: true,
            ap_ack: PlantedAck::Ok,
        }
    }
}

/// How the HSE clock is made. The ROM enables HSE without HSEBYP (reference §5.5, F373 thread [C3]; F7 [U]);
/// the kind is informational unless `bootloader.sets_hsebyp` says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HseKind {
    Crystal,
    Oscillator,
}

/// `[hse]`: the external clock on OSC_IN.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HseConfig {
    /// Nominal frequency in Hz. The bootloader needs an integer MHz between 4 and 26 MHz [C] AN2606.
    pub frequency_hz: u32,
    /// Crystal or oscillator module.
    pub kind: HseKind,
    /// Tolerance of the part in ppm; [`crate::Board::new`] draws one fixed offset within ± this (seeded). Typical
    /// crystals/oscillators are ±10…±50 ppm [U].
    pub accuracy_ppm: f64,
    /// Start-up time in ms added to the enumeration delay. [U] guess: crystals ~2 ms, oscillators ~0.
    pub startup_ms: f64,
}

/// `[hsi]`: the internal 16 MHz RC oscillator that times the HSE measurement.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HsiConfig {
    /// Error at 25 °C with HSITRIM = 16, in ppm. Factory calibration is ±1 % (±10 000 ppm) [C] AN2606.
    pub factory_error_ppm: f64,
    /// Drift in ppm per °C away from 25 °C. [U] guess: the datasheet band (−4…+4 % over −10…85 °C, F4 figures)
    /// is not linear; a small linear slope is all the model uses.
    pub temp_coefficient_ppm_per_c: f64,
    /// Per-boot 1-sigma jitter in ppm (normal distribution, seeded). [U] guess: models day-to-day spread.
    pub jitter_ppm: f64,
    /// RCC_CR.HSITRIM (5 bits); 16 is the reset value [C] HAL.
    pub trim: u8,
    /// RCC_CR.HSICAL, the factory calibration byte (read only; any value) [U].
    pub cal: u8,
    /// HSI change per HSITRIM step away from 16, in ppm. [U] guess: about 0.5 % per step.
    pub trim_step_ppm: f64,
}

/// `[environment]`: conditions that tests may change at run time.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnvironmentConfig {
    /// Die temperature at power-on in °C (change it later with [`crate::Board::set_temperature`]).
    pub temperature_c: f64,
}

/// `[bootloader]`: what the ROM code does that the notes could only infer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BootloaderConfig {
    /// Clock of the timer (TIM11) measuring HSE, nominal Hz. 24 MHz [C3] EFT; AN2606 says the HSI start-up sysclk
    /// is 60 MHz [C] — conflict, so a parameter.
    pub measure_timer_hz: u32,
    /// PLLN written after detection. [I] §2.2: the only 60 MHz / 48 MHz solution with 1 MHz PLL input.
    pub pll_n: u16,
    /// PLLP divider (2, 4, 6, 8) [I] §2.2.
    pub pll_p: u8,
    /// PLLQ divider [I] §2.2.
    pub pll_q: u8,
    /// RCC_PLLCFGR bit 29 (reserved) reads 1 as after reset (reset value 0x24003010 [C] HAL) [U].
    pub pllcfgr_bit29: bool,
    /// Whether the ROM sets RCC_CR.HSEBYP for oscillators. false [C3] F373 thread; F7 [U].
    pub sets_hsebyp: bool,
    /// Whether HSI stays on after switching SYSCLK to the PLL [U].
    pub hsi_stays_on: bool,
    /// AHB prescaler in RCC_CFGR [U] guess /1.
    pub ahb_div: u16,
    /// APB1 prescaler [U] guess /2.
    pub apb1_div: u8,
    /// APB2 prescaler [U] guess /1.
    pub apb2_div: u8,
    /// RCC_CFGR.RTCPRE left by the HSE measurement (31 routes HSE/31 to TIM11 [C3] EFT; left set [U]).
    pub rtcpre: u8,
    /// FLASH_ACR value: latency 3 WS and ART on [C] AN2606 → 0x203; PRFTEN off [U].
    pub flash_acr: u32,
    /// Bootloader ID byte at 0x1FF0EDBE: 0x90 (V9.x, rev Z/1) or 0x70 (V7.x, rev A) [C] AN2606.
    pub bl_id: u8,
    /// DBGMCU_IDCODE.REV_ID: 0x1000 = A, 0x1001 = Z [C3].
    pub rev_id: u16,
    /// Time from reset to the D+ pull-up (HSE measurement, PLL lock, USB init) in ms [U] guess.
    pub attach_delay_ms: f64,
    /// bwPollTimeout reported with dfuMANIFEST, ms. [I] ST's DFU class uses 1 ms.
    pub manifest_poll_ms: u32,
    /// bwPollTimeout (and busy time) for Set Address Pointer, ms [U].
    pub set_address_poll_ms: u32,
    /// Required write start alignment in bytes: 8 on F7 [C] AN2606 Table 7; rejected with errTARGET [I].
    pub write_alignment: u32,
    /// Reply to DFU_UPLOAD wValue=0 (Get Commands) [C] AN3156: `00 21 41 92`.
    pub get_commands: Vec<u8>,
    /// bStatus for a write into a write-protected sector (an nWRP bit cleared) or a mass erase with one
    /// protected; the cells stay unchanged. AN3156 says a sector erase there returns no error [C] (the model
    /// leaves the sector unerased [I]); for writes the ROM's answer is unknown [U]: errWRITE (0x03) guessed;
    /// 0 answers OK.
    pub write_protected_status: u8,
}

/// `[descriptors]`: USB descriptor contents that are not confirmed for the F746 ROM.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DescriptorConfig {
    /// Device descriptor bcdUSB: 0x0100 on the F4 ROM (lsusb dump) [C3]; F746 [U].
    pub bcd_usb: u16,
    /// bcdDevice: 0x2200 for DFU BL protocol V2.2 [C] rule AN3156; F746 value [I].
    pub bcd_device: u16,
    /// iManufacturer string [C] F4 ROM; F746 [U].
    pub manufacturer: String,
    /// iProduct string, two spaces [C] F4 ROM; F746 [U].
    pub product: String,
    /// Configuration bmAttributes: 0xC0 self-powered on the F4 ROM [C3].
    pub config_attributes: u8,
    /// Configuration MaxPower in mA: 100 on the F4 ROM [C3].
    pub max_power_ma: u16,
    /// Alt 0 iInterface string [C3] Betaflight "F74x".
    pub alt_flash: String,
    /// Alt 1 iInterface string [I] (32-byte F7 OB block, type e).
    pub alt_option_bytes: String,
    /// Alt 2 iInterface string [U]: made up from the F7 OTP layout (1024 data + 16 lock bytes) in F4 style.
    pub alt_otp: String,
    /// Alt 3 iInterface string [C3] F4 V2.2.
    pub alt_device_feature: String,
    /// Serve alt strings the DfuSe grammar cannot parse, as written: a planted ROM defect (the rom-layout
    /// diagnosis case). Off, a string that does not parse is refused when the board file loads, naming its key,
    /// so a typo is not found one failed cycle at a time.
    pub accept_unparseable_layouts: bool,
    /// DFU functional bmAttributes 0x0B [C] F4 ROM; F746 [I].
    pub dfu_attributes: u8,
    /// wDetachTimeOut in ms: 255 [C] F4 ROM; F746 [I].
    pub detach_timeout_ms: u16,
    /// wTransferSize: 2048 [C] F4 ROM; F746 [I]. Also the block-number multiplier [I] §1.3.
    pub transfer_size: u16,
}

/// `[memory]`: contents that differ per chip or are not known.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MemoryConfig {
    /// The 96-bit unique ID words at 0x1FF0F420/24/28 [C] CMSIS addresses; values per board.
    pub uid: [u32; 3],
    /// The four reserved option-byte words at 0x1FFF0004/0C/14/1C, little-endian [U]: must be captured from
    /// hardware; default all ones (erased-looking).
    pub option_reserved: [u32; 4],
    /// Initial Device Feature bytes at 0xFFFF0000: byte 0 = voltage range (0..=4), bytes 1–3 reserved [C]
    /// AN2606 Table 4; the factory value of byte 0 is [U] (0x00 guessed, the byte-wide x8 range).
    pub device_feature: [u8; 4],
}

/// `[flash_timing]`: operation times; they are reported as bwPollTimeout and keep the board busy. Figures are
/// the F74x datasheet typical values at x8 parallelism as remembered [U] (the datasheet is not in our sources);
/// the ROM programs byte-wide [C] AN2606.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlashTimingConfig {
    /// Byte program time (x8), µs: typ 16 [U].
    pub program_us_per_byte: f64,
    /// 32 KB sector erase, ms: typ 400 at x8 [U].
    pub erase_32k_ms: u32,
    /// 128 KB sector erase, ms: typ 1100 at x8 [U].
    pub erase_128k_ms: u32,
    /// 256 KB sector erase, ms: typ 2000 at x8 [U].
    pub erase_256k_ms: u32,
    /// Mass erase, ms: typ 16000 at x8 [U]. Also used for Read Unprotect.
    pub mass_erase_ms: u32,
    /// Option-byte programming before the reset, ms [U] guess.
    pub option_bytes_ms: u32,
}

/// `[link]`: the USB failure and bus-timing model. All guesses [U] except the tolerance.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinkConfig {
    /// No failures at all within this USB clock error: 2500 ppm, USB 2.0 §7.1.11 [C].
    pub tolerance_ppm: f64,
    /// Bit slip at which one attempt fails with probability 1 − 1/e [U].
    ///
    /// Calibrated (with `shape`) to the seed report (reference notes §5.1): on a boot that set PLLM=24 on a
    /// 25 MHz board (+41,667 ppm) the device still enumerates — the host retries descriptor reads and
    /// re-initialises the port, so about 89 % of such boots enumerate — while a tool's single option-byte
    /// upload fails about 29 % of the time, the serial string 15 %, a 6-byte GETSTATUS 0.2 % and every
    /// 2 KiB block nearly always. Replace with figures measured on a real rig.
    pub margin_bits: f64,
    /// Weibull shape of the per-attempt failure curve [U]; see `margin_bits`.
    pub shape: f64,
    /// Attempts per packet by the host controller (error counter 3) [U].
    pub attempts: u32,
    /// Fixed host/bus time per control transfer, µs (frame scheduling) [U].
    pub transfer_overhead_us: f64,
    /// A lossy cable (a planted cause, not a fact): each attempt of each packet also fails with this
    /// probability, independently of the clock error, so one attempt fails with
    /// `1 − (1 − p_clock)(1 − cable_loss_per_packet)` and a packet is lost when all `attempts` fail (0.1 with 3
    /// attempts loses one packet in 1000). 0 (the default) draws nothing extra.
    pub cable_loss_per_packet: f64,
}

impl Default for HseConfig {
    fn default() -> Self {
        HseConfig {
            frequency_hz: 25_000_000,
            kind: HseKind::Oscillator,
            accuracy_ppm: 20.0,
            startup_ms: 0.0,
        }
    }
}

impl Default for HsiConfig {
    fn default() -> Self {
        HsiConfig {
            factory_error_ppm: 1000.0,
            temp_coefficient_ppm_per_c: 20.0,
            jitter_ppm: 100.0,
            trim: 16,
            cal: 0x7A,
            trim_step_ppm: 5000.0,
        }
    }
}

impl Default for EnvironmentConfig {
    fn default() -> Self {
        EnvironmentConfig {
            temperature_c: 25.0,
        }
    }
}

impl Default for BootloaderConfig {
    fn default() -> Self {
        BootloaderConfig {
            measure_timer_hz: 24_000_000,
            pll_n: 240,
            pll_p: 4,
            pll_q: 5,
            pllcfgr_bit29: true,
            sets_hsebyp: false,
            hsi_stays_on: true,
            ahb_div: 1,
            apb1_div: 2,
            apb2_div: 1,
            rtcpre: 31,
            flash_acr: 0x0000_0203,
            bl_id: 0x90,
            rev_id: 0x1001,
            attach_delay_ms: 20.0,
            manifest_poll_ms: 1,
            set_address_poll_ms: 1,
            write_alignment: 8,
            get_commands: vec![0x00, 0x21, 0x41, 0x92],
            write_protected_status: 0x03,
        }
    }
}

impl Default for DescriptorConfig {
    fn default() -> Self {
        DescriptorConfig {
            bcd_usb: 0x0100,
            bcd_device: 0x2200,
            manufacturer: "STMicroelectronics".into(),
            product: "STM32  BOOTLOADER".into(),
            config_attributes: 0xC0,
            max_power_ma: 100,
            alt_flash: "@Internal Flash  /0x08000000/04*032Kg,01*128Kg,03*256Kg".into(),
            alt_option_bytes: "@Option Bytes  /0x1FFF0000/01*032 e".into(),
            alt_otp: "@OTP Memory /0x1FF0F000/01*1024 e,01*016 e".into(),
            alt_device_feature: "@Device Feature/0xFFFF0000/01*004 e".into(),
            accept_unparseable_layouts: false,
            dfu_attributes: 0x0B,
            detach_timeout_ms: 255,
            transfer_size: 2048,
        }
    }
}

impl Default for MemoryConfig {
    fn default() -> Self {
        MemoryConfig {
            uid: [0x0032_0041, 0x3436_5118, 0x3335_3830],
            option_reserved: [0xFFFF_FFFF; 4],
            device_feature: [0x00, 0xFF, 0xFF, 0xFF],
        }
    }
}

impl Default for FlashTimingConfig {
    fn default() -> Self {
        FlashTimingConfig {
            program_us_per_byte: 16.0,
            erase_32k_ms: 400,
            erase_128k_ms: 1100,
            erase_256k_ms: 2000,
            mass_erase_ms: 16000,
            option_bytes_ms: 100,
        }
    }
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            tolerance_ppm: 2500.0,
            margin_bits: 11.5,
            shape: 2.0,
            attempts: 3,
            transfer_overhead_us: 1000.0,
            cable_loss_per_packet: 0.0,
        }
    }
}
