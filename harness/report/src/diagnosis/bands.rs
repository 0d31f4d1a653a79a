//! The bootloader's HSE detection bands: the HSI errors within which it measures each HSE frequency right.
//! From the reference notes' table (stm32f7-bootloader.md §2.3), a simulation of the reverse-engineered EFT
//! algorithm with the 24 MHz measuring timer — [I] inferred, not measured on silicon. "Always" is where both
//! roundings of the timer count give the right MHz, "sometimes" where one does.

/// One HSE frequency's band, HSI error in percent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    pub hse_mhz: u32,
    pub always: (f64, f64),
    pub sometimes: (f64, f64),
}

/// The table. 8 MHz detects right "beyond ±5 %": the band is at least that wide.
const BANDS: [Band; 5] = [
    Band {
        hse_mhz: 8,
        always: (-5.0, 5.0),
        sometimes: (-5.0, 5.0),
    },
    Band {
        hse_mhz: 16,
        always: (-2.96, 3.23),
        sometimes: (-3.23, 3.49),
    },
    Band {
        hse_mhz: 24,
        always: (-2.02, 2.02),
        sometimes: (-2.42, 2.42),
    },
    Band {
        hse_mhz: 25,
        always: (-1.71, 1.65),
        sometimes: (-2.13, 2.07),
    },
    Band {
        hse_mhz: 26,
        always: (-1.71, 1.78),
        sometimes: (-2.15, 2.22),
    },
];

/// The band of an HSE frequency, if the table has it.
pub fn band(hse_hz: u32) -> Option<Band> {
    BANDS
        .iter()
        .find(|b| b.hse_mhz * 1_000_000 == hse_hz)
        .copied()
}

/// Whether the bootloader can detect this HSE at all: an integer MHz from 4 to 26 MHz [C] AN2606.
pub fn detectable(hse_hz: u32) -> bool {
    hse_hz.is_multiple_of(1_000_000) && (4_000_000..=26_000_000).contains(&hse_hz)
}

/// "−1.71 … +1.65 %".
pub fn range_text((lo, hi): (f64, f64)) -> String {
    format!("{lo:+.2} … {hi:+.2} %")
}
