//! [`ClockError`] and its coarse [`Culprit`]: did the probe (infrastructure) fail, did the board, or was
//! the request itself wrong. Backend errors are classified at the edge through [`Classify`] (the probe-rs
//! mapping lives in `crate::probe`).

/// Who failed, as records store it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Culprit {
    /// The debug probe or its USB link: not found, unplugged, USB errors. Infrastructure, not the board.
    Probe,
    /// The board: no answer on SWD, a bus fault on a register read, a clock that does not count.
    Board,
    /// The request: bad selector, unknown chip, bad target file, a bug in the harness.
    Harness,
}

impl Culprit {
    /// Stable lower-case name for records and messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Probe => "probe",
            Self::Board => "board",
            Self::Harness => "harness",
        }
    }
}

/// A backend error that knows which side failed.
pub trait Classify: std::error::Error + Send + Sync + 'static {
    fn culprit(&self) -> Culprit;
}

type Source = Box<dyn std::error::Error + Send + Sync>;

/// Why a clock read, a measurement or opening a probe failed.
#[derive(Debug, thiserror::Error)]
pub enum ClockError {
    /// A register read failed.
    #[error("reading {what} at {address:#010X}")]
    Read {
        what: &'static str,
        address: u32,
        culprit: Culprit,
        #[source]
        source: Source,
    },
    /// A debug register write failed.
    #[error("writing {what} at {address:#010X}")]
    Write {
        what: &'static str,
        address: u32,
        culprit: Culprit,
        #[source]
        source: Source,
    },
    /// Opening or attaching the probe failed.
    #[error("{during}")]
    Probe {
        during: String,
        culprit: Culprit,
        #[source]
        source: Source,
    },
    /// A probe selector string that does not parse.
    #[error("probe selector {input:?}: {problem}; expected VID:PID[:SERIAL] in hex, e.g. 0483:374b or 0483:374b:0671FF3833")]
    Selector { input: String, problem: String },
    /// The chip name is not in probe-rs's built-in target list.
    #[error("chip {name:?} is not a probe-rs target{}", suggest(.similar))]
    UnknownChip { name: String, similar: Vec<String> },
    /// A target description file that cannot be used: file, line, column and key, as for every TOML file.
    #[error(transparent)]
    TargetFile(#[from] tomlfile::FileError),
    /// A measurement that cannot give a number (counter not counting, window too short or too long).
    #[error("{message}")]
    Measurement { culprit: Culprit, message: String },
}

fn suggest(similar: &[String]) -> String {
    match similar {
        [] => String::new(),
        s => format!(" (similar: {})", s.join(", ")),
    }
}

impl ClockError {
    /// Who failed.
    pub fn culprit(&self) -> Culprit {
        match self {
            Self::Read { culprit, .. }
            | Self::Write { culprit, .. }
            | Self::Probe { culprit, .. }
            | Self::Measurement { culprit, .. } => *culprit,
            Self::Selector { .. } | Self::UnknownChip { .. } | Self::TargetFile(_) => {
                Culprit::Harness
            }
        }
    }

    pub(crate) fn read<E: Classify>(what: &'static str, address: u32, e: E) -> Self {
        Self::Read {
            what,
            address,
            culprit: e.culprit(),
            source: Box::new(e),
        }
    }

    pub(crate) fn write<E: Classify>(what: &'static str, address: u32, e: E) -> Self {
        Self::Write {
            what,
            address,
            culprit: e.culprit(),
            source: Box::new(e),
        }
    }
}
