//! The records' vocabularies: every value a column may hold that is a word, as a serde-renamed enum, so each
//! name is spelled once (the CSV, summary.json and `hil clocks --json` all serialise these). A name changes
//! only with the schema version.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One enum per vocabulary: variants with their record names, `ALL`, `name()` and `from_name()`.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        $vis enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name the records store.
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value a record name stands for.
            pub fn from_name(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

vocabulary! {
    /// How a cycle or step attempt ended.
    pub enum Outcome {
        Pass = "pass",
        Fail = "fail",
    }
}

vocabulary! {
    /// What failed: the stable error names the records and the report group by.
    pub enum ErrorKind {
        /// No answer in time (a transfer, enumeration).
        Timeout = "timeout",
        /// The device stalled a request.
        Stall = "stall",
        /// The device left the bus.
        Disconnected = "disconnected",
        /// A bus-level error: CRC, bit stuffing, babble.
        Io = "io",
        /// The host may not open the device (permissions, driver).
        Access = "access",
        /// Another program holds the device.
        Busy = "busy",
        /// Anything else the USB backend reported.
        Other = "other",
        /// A reply that breaks the DFU protocol.
        Protocol = "protocol",
        /// The device reported an error status.
        DeviceStatus = "device_status",
        /// The device stayed busy or kept asking for more time.
        Stuck = "stuck",
        /// Read-back differs from what was written.
        Verify = "verify",
        /// The memory layout refuses the operation, or cannot be parsed.
        Layout = "layout",
        /// The harness asked for something impossible.
        Usage = "usage",
        /// An exec step's tool reported failure: its exit code, a `fail` line, or no `pass` line.
        Exec = "exec",
        /// Refused before any transfer, for the board's safety.
        Refused = "refused",
        /// The rig controller did not answer in time.
        RigTimeout = "rig_timeout",
        /// The rig controller's reply did not match.
        RigGarbled = "rig_garbled",
        /// The rig controller's port failed.
        RigIo = "rig_io",
        /// A rig command line (`exec`) could not start or exited non-zero.
        RigExec = "rig_exec",
        /// A SCPI instrument reported an error in its error queue (`SYST:ERR?`).
        RigInstrument = "rig_instrument",
        /// The rig has no such command or board.
        RigConfig = "rig_config",
        /// The debug probe or its USB link failed.
        Probe = "probe",
        /// The chip did not answer a register read.
        ClockRead = "clock_read",
        /// A fault of the harness or the scenario.
        Harness = "harness",
    }
}

impl ErrorKind {
    /// Who failed when this fails: the one table of it.
    pub fn class(self) -> ErrorClass {
        use ErrorKind::*;
        match self {
            // A memory layout the host cannot use is the board's ROM or descriptors differing, not the rig.
            Timeout | Stall | Disconnected | Io | Other | Protocol | DeviceStatus | Stuck
            | Verify | ClockRead | Layout | Exec => ErrorClass::Board,
            Access | Busy | Usage | Refused | RigTimeout | RigGarbled | RigIo | RigExec
            | RigInstrument | RigConfig | Probe | Harness => ErrorClass::Infrastructure,
        }
    }
}

vocabulary! {
    /// Who failed.
    pub enum ErrorClass {
        /// The board under test: what the soak is looking for.
        Board = "board",
        /// The rig, the probe, the host or the scenario: not evidence against the board.
        Infrastructure = "infrastructure",
    }
}

vocabulary! {
    /// What the bootloader made of the HSE, from PLLM against the board's true HSE.
    pub enum HseVerdict {
        /// PLLM equals the true HSE in MHz: the PLL input is 1 MHz as intended.
        Correct = "correct",
        /// PLLM is off: the bootloader measured the HSE wrongly.
        Misdetected = "misdetected",
        /// The PLL does not run from HSE (reset clocks, user code): nothing to judge.
        NotConfigured = "not_configured",
    }
}

vocabulary! {
    /// The option bytes read over DFU against FLASH_OPTCR/OPTCR1 read over SWD.
    pub enum OptionBytesCheck {
        Match = "match",
        Mismatch = "mismatch",
        /// Read over DFU; the registers were not read, so nothing to compare with.
        DfuOnly = "dfu_only",
    }
}

vocabulary! {
    /// The USB serial number against ST's formula over the UID read over SWD.
    pub enum SerialMatch {
        Match = "match",
        Mismatch = "mismatch",
        /// The device enumerated but its serial-number string could not be read.
        Unreadable = "unreadable",
    }
}

/// A row being built starts as passed until a step fails.
impl Default for Outcome {
    fn default() -> Self {
        Outcome::Pass
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_serde_spells_them_the_same() {
        for k in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_name(k.name()), Some(*k));
            assert_eq!(
                serde_json::to_string(k).unwrap(),
                format!("\"{}\"", k.name())
            );
        }
        for v in HseVerdict::ALL {
            assert_eq!(HseVerdict::from_name(v.name()), Some(*v));
        }
        assert_eq!(ErrorKind::from_name("hse_misdetected"), None);
    }

    #[test]
    fn board_failures_are_the_boards_and_rig_failures_the_rigs() {
        assert_eq!(ErrorKind::Io.class(), ErrorClass::Board);
        assert_eq!(ErrorKind::Verify.class(), ErrorClass::Board);
        // The board's own ROM difference (an alt-setting layout the host cannot use) is the board's.
        assert_eq!(ErrorKind::Layout.class(), ErrorClass::Board);
        assert_eq!(ErrorKind::RigTimeout.class(), ErrorClass::Infrastructure);
        assert_eq!(ErrorKind::Probe.class(), ErrorClass::Infrastructure);
    }
}
