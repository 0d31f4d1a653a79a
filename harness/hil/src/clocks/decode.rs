//! Pure decoders for RCC (CR, PLLCFGR, CFGR, CSR, DCKCFGR2), FLASH_ACR and the identity words. Bit positions
//! are RM0385's as transcribed in the reference notes §4 ([C] CMSIS unless a doc comment says otherwise).

use serde::Serialize;

fn bit(word: u32, n: u32) -> bool {
    word >> n & 1 != 0
}

fn field(word: u32, lsb: u32, width: u32) -> u32 {
    word >> lsb & ((1 << width) - 1)
}

/// A clock the system clock switch (RCC_CFGR.SW/SWS) can select.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockSource {
    Hsi,
    Hse,
    Pll,
    /// Field value 11, "not allowed".
    Invalid,
}

impl ClockSource {
    fn from_field(f: u32) -> Self {
        match f {
            0 => Self::Hsi,
            1 => Self::Hse,
            2 => Self::Pll,
            _ => Self::Invalid,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Hsi => "HSI",
            Self::Hse => "HSE",
            Self::Pll => "PLL",
            Self::Invalid => "invalid (11)",
        }
    }
}

/// RCC_PLLCFGR.PLLSRC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PllSource {
    Hsi,
    Hse,
}

/// RCC_DCKCFGR2.CK48MSEL: where the 48 MHz USB clock comes from (0 = PLL Q [C]; 1 = PLLSAI P [U]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UsbClockSource {
    PllQ,
    PllsaiP,
}

/// The main PLL's settings: register field values, except `p` which is the divider 2/4/6/8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Pll {
    pub source: PllSource,
    pub m: u8,
    pub n: u16,
    pub p: u8,
    pub q: u8,
}

/// RCC_CSR reset flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ResetFlags {
    pub lpwr: bool,
    pub wwdg: bool,
    pub iwdg: bool,
    pub software: bool,
    pub por: bool,
    pub pin: bool,
    pub bor: bool,
}

impl ResetFlags {
    /// RM0385 flag names of the set flags, most specific first.
    pub fn names(&self) -> Vec<&'static str> {
        let all = [
            (self.por, "POR"),
            (self.pin, "PIN"),
            (self.bor, "BOR"),
            (self.software, "SFT"),
            (self.iwdg, "IWDG"),
            (self.wwdg, "WWDG"),
            (self.lpwr, "LPWR"),
        ];
        all.iter()
            .filter(|(set, _)| *set)
            .map(|(_, n)| *n)
            .collect()
    }
}

/// The RCC as decoded from CR, PLLCFGR, CFGR, CSR and DCKCFGR2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rcc {
    pub hsi_on: bool,
    pub hsi_ready: bool,
    pub hsitrim: u8,
    pub hsical: u8,
    pub hse_on: bool,
    pub hse_ready: bool,
    pub hse_bypass: bool,
    pub css_on: bool,
    pub pll_on: bool,
    pub pll_ready: bool,
    pub pll: Pll,
    /// RCC_CFGR.SW: what was asked for.
    pub sysclk_switch: ClockSource,
    /// RCC_CFGR.SWS: what the system clock really runs from.
    pub sysclk_source: ClockSource,
    pub ahb_div: u16,
    pub apb1_div: u8,
    pub apb2_div: u8,
    pub rtcpre: u8,
    pub usb_clock_source: UsbClockSource,
    pub reset_flags: ResetFlags,
}

impl Rcc {
    pub fn decode(cr: u32, pllcfgr: u32, cfgr: u32, csr: u32, dckcfgr2: u32) -> Rcc {
        Rcc {
            hsi_on: bit(cr, 0),
            hsi_ready: bit(cr, 1),
            hsitrim: field(cr, 3, 5) as u8,
            hsical: field(cr, 8, 8) as u8,
            hse_on: bit(cr, 16),
            hse_ready: bit(cr, 17),
            hse_bypass: bit(cr, 18),
            css_on: bit(cr, 19),
            pll_on: bit(cr, 24),
            pll_ready: bit(cr, 25),
            pll: decode_pll(pllcfgr),
            sysclk_switch: ClockSource::from_field(field(cfgr, 0, 2)),
            sysclk_source: ClockSource::from_field(field(cfgr, 2, 2)),
            ahb_div: hpre_div(field(cfgr, 4, 4)),
            apb1_div: ppre_div(field(cfgr, 10, 3)),
            apb2_div: ppre_div(field(cfgr, 13, 3)),
            rtcpre: field(cfgr, 16, 5) as u8,
            usb_clock_source: if bit(dckcfgr2, 27) {
                UsbClockSource::PllsaiP
            } else {
                UsbClockSource::PllQ
            },
            reset_flags: decode_csr(csr),
        }
    }
}

fn decode_pll(w: u32) -> Pll {
    Pll {
        source: if bit(w, 22) {
            PllSource::Hse
        } else {
            PllSource::Hsi
        },
        m: field(w, 0, 6) as u8,
        n: field(w, 6, 9) as u16,
        p: 2 * (field(w, 16, 2) as u8 + 1),
        q: field(w, 24, 4) as u8,
    }
}

/// HPRE: 0xxx = /1, 1000 = /2 … 1011 = /16, 1100 = /64 … 1111 = /512 (there is no /32).
fn hpre_div(f: u32) -> u16 {
    match f {
        0..=7 => 1,
        8..=11 => 2 << (f - 8),
        _ => 64 << (f - 12),
    }
}

/// PPREx: 0xx = /1, 100 = /2, 101 = /4, 110 = /8, 111 = /16.
fn ppre_div(f: u32) -> u8 {
    match f {
        0..=3 => 1,
        _ => 2 << (f - 4),
    }
}

fn decode_csr(csr: u32) -> ResetFlags {
    ResetFlags {
        bor: bit(csr, 25),
        pin: bit(csr, 26),
        por: bit(csr, 27),
        software: bit(csr, 28),
        iwdg: bit(csr, 29),
        wwdg: bit(csr, 30),
        lpwr: bit(csr, 31),
    }
}

/// FLASH_ACR: wait states, prefetch, ART accelerator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FlashInterface {
    pub latency_ws: u8,
    pub prefetch: bool,
    pub art: bool,
}

impl FlashInterface {
    /// LATENCY[3:0], PRFTEN b8, ARTEN b9 (RM0385 [U]: not in the reference notes beyond LATENCY).
    pub fn decode(acr: u32) -> FlashInterface {
        FlashInterface {
            latency_ws: field(acr, 0, 4) as u8,
            prefetch: bit(acr, 8),
            art: bit(acr, 9),
        }
    }
}

/// Who the chip is: DBGMCU_IDCODE, UID, flash size, bootloader ID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub dev_id: u16,
    pub rev_id: u16,
    /// Silicon revision letter from REV_ID (0x1000 = A, 0x1001 = Z [C3]), "?" otherwise.
    pub revision: &'static str,
    pub uid: [u32; 3],
    pub flash_size_kb: u16,
    pub bootloader_id: u8,
    /// "V9.0" from ID 0x90 (major.minor nibbles, AN2606 Table 3).
    pub bootloader_version: String,
}

impl Identity {
    pub fn decode(idcode: u32, uid: [u32; 3], flash_size_kb: u16, bl_id: u8) -> Identity {
        let rev_id = (idcode >> 16) as u16;
        Identity {
            dev_id: field(idcode, 0, 12) as u16,
            rev_id,
            revision: match rev_id {
                0x1000 => "A",
                0x1001 => "Z",
                _ => "?",
            },
            uid,
            flash_size_kb,
            bootloader_id: bl_id,
            bootloader_version: format!("V{}.{}", bl_id >> 4, bl_id & 0xF),
        }
    }
}
