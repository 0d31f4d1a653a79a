//! The scenario file as written: serde structs with `deny_unknown_fields`; steps are an internally tagged
//! enum (`kind = "flash"`). [`super::load`] validates them into [`super::Scenario`].

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

use super::spec::RetryOn;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub rig: String,
    #[serde(default)]
    pub boards: RawBoards,
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub defaults: RawDefaults,
    #[serde(default)]
    pub retry: RawRetry,
    #[serde(default)]
    pub stop: RawStop,
    #[serde(default)]
    pub pass: RawPass,
    #[serde(default)]
    pub phases: Vec<RawPhase>,
    #[serde(default)]
    pub steps: Vec<RawStep>,
}

/// `boards = "all"` or `boards = ["bench-01", ...]`.
#[derive(Debug, Default)]
pub(crate) enum RawBoards {
    #[default]
    All,
    Named(Vec<String>),
}

impl<'de> Deserialize<'de> for RawBoards {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(BoardsVisitor)
    }
}

struct BoardsVisitor;

impl<'de> Visitor<'de> for BoardsVisitor {
    type Value = RawBoards;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("\"all\" or a list of board names")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawBoards, E> {
        match v {
            "all" => Ok(RawBoards::All),
            other => Err(E::invalid_value(de::Unexpected::Str(other), &self)),
        }
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawBoards, A::Error> {
        let mut names = Vec::new();
        while let Some(name) = seq.next_element::<String>()? {
            names.push(name);
        }
        Ok(RawBoards::Named(names))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDefaults {
    pub step_timeout_ms: Option<u64>,
    #[serde(default)]
    pub step_retries: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRetry {
    #[serde(default)]
    pub cycle_attempts: u32,
    #[serde(default = "retry_on_rig")]
    pub on: RetryOn,
}

impl Default for RawRetry {
    fn default() -> Self {
        RawRetry {
            cycle_attempts: 0,
            on: RetryOn::Rig,
        }
    }
}

fn retry_on_rig() -> RetryOn {
    RetryOn::Rig
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStop {
    pub max_failures: Option<u64>,
    pub max_consecutive_failures: Option<u64>,
    pub max_duration_s: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPass {
    #[serde(default)]
    pub max_failure_rate: f64,
    pub max_failures_per_board: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPhase {
    pub name: String,
    pub cycles: Option<u64>,
    pub duration_s: Option<u64>,
    pub temperature_c: Option<f64>,
    #[serde(default)]
    pub settle_s: u64,
}

/// `image = { generate = 65536 }` or `image = { path = "app.bin" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawImage {
    pub generate: Option<u64>,
    pub seed: Option<u64>,
    pub path: Option<String>,
}

/// One step; `timeout_ms` and `retries` are repeated per kind because serde cannot combine `flatten` with
/// `deny_unknown_fields`.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum RawStep {
    PowerCycle {
        off_ms: Option<u64>,
        timeout_ms: Option<u64>,
        retries: Option<u32>,
    },
    Boot0 {
        level: Level,
        timeout_ms: Option<u64>,
        retries: Option<u32>,
    },
    Reset {
        timeout_ms: Option<u64>,
        retries: Option<u32>,
    },
    WaitEnumeration {
        timeout_ms: Option<u64>,
        retries: Option<u32>,
    },
    DfuConnect {
        timeout_ms: Option<u64>,
        retries: Option<u32>,
    },
    ReadOptionBytes {
        timeout_ms: Option<u64>,
        retries: Option<u32>,
    },
    ReadClocks {
        timeout_ms: Option<u64>,
        retries: Option<u32>,
    },
    MeasureSysclk {
        window_ms: Option<u64>,
        timeout_ms: Option<u64>,
        retries: Option<u32>,
    },
    MeasureHsi {
        window_ms: Option<u64>,
        timeout_ms: Option<u64>,
        retries: Option<u32>,
    },
    Flash {
        image: RawImage,
        address: Option<u32>,
        #[serde(default = "yes")]
        verify: bool,
        timeout_ms: Option<u64>,
        retries: Option<u32>,
    },
    Leave {
        timeout_ms: Option<u64>,
        retries: Option<u32>,
    },
    Delay {
        ms: u64,
        timeout_ms: Option<u64>,
        retries: Option<u32>,
    },
    Exec {
        command: Vec<String>,
        pass: Option<String>,
        fail: Option<String>,
        timeout_ms: Option<u64>,
        retries: Option<u32>,
    },
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Level {
    High,
    Low,
}

impl RawStep {
    /// The step's own timeout and retries.
    pub(crate) fn common(&self) -> (Option<u64>, Option<u32>) {
        match *self {
            RawStep::PowerCycle {
                timeout_ms,
                retries,
                ..
            }
            | RawStep::Boot0 {
                timeout_ms,
                retries,
                ..
            }
            | RawStep::Reset {
                timeout_ms,
                retries,
            }
            | RawStep::WaitEnumeration {
                timeout_ms,
                retries,
            }
            | RawStep::DfuConnect {
                timeout_ms,
                retries,
            }
            | RawStep::ReadOptionBytes {
                timeout_ms,
                retries,
            }
            | RawStep::ReadClocks {
                timeout_ms,
                retries,
            }
            | RawStep::MeasureSysclk {
                timeout_ms,
                retries,
                ..
            }
            | RawStep::MeasureHsi {
                timeout_ms,
                retries,
                ..
            }
            | RawStep::Flash {
                timeout_ms,
                retries,
                ..
            }
            | RawStep::Leave {
                timeout_ms,
                retries,
            }
            | RawStep::Delay {
                timeout_ms,
                retries,
                ..
            }
            | RawStep::Exec {
                timeout_ms,
                retries,
                ..
            } => (timeout_ms, retries),
        }
    }
}
