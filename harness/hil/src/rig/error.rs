//! [`RigError`]: a rig action that did not happen as the rig file says it should. All of these are
//! infrastructure failures; the runner records them as kind `Rig`, never against the board.

/// Coarse class of a [`RigError`], for callers to branch on and records to group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RigErrorKind {
    Timeout,
    Garbled,
    Io,
    NotConfigured,
    Config,
}

/// A failed rig action, with the port and the command line it was about.
#[derive(Debug, thiserror::Error)]
pub enum RigError {
    /// No complete reply line within the command's timeout.
    #[error("rig {port}: no reply to {command:?} within {waited_ms} ms")]
    Timeout {
        port: String,
        command: String,
        waited_ms: u64,
    },
    /// A reply arrived but is not what the rig file expects.
    #[error("rig {port}: reply {got:?} to {command:?} does not match {expected:?}")]
    Garbled {
        port: String,
        command: String,
        got: String,
        expected: String,
    },
    /// The port could not be opened, written or read.
    #[error("rig {port}: I/O error on {command:?}")]
    Io {
        port: String,
        command: String,
        #[source]
        source: std::io::Error,
    },
    /// A power command was acknowledged but the relay did not switch: the board was not power-cycled. Only a
    /// virtual rig knows this (a real relay that sticks shows up later, as a board that did not reboot).
    #[error("relay stuck: channel {channel} did not switch {} (the command was acknowledged)", on_off(*.on))]
    RelayStuck { channel: u16, on: bool },
    /// The rig file defines no command for this action (e.g. no chamber, no reset line).
    #[error("rig: this rig cannot {action}")]
    NotConfigured { action: &'static str },
    /// An expected-reply pattern does not compile for this board (the rig file was not validated).
    #[error("rig: expected reply {pattern:?} is not a valid regex")]
    BadPattern {
        pattern: String,
        #[source]
        source: regex::Error,
    },
}

impl RigError {
    pub fn kind(&self) -> RigErrorKind {
        match self {
            RigError::Timeout { .. } => RigErrorKind::Timeout,
            RigError::Garbled { .. } => RigErrorKind::Garbled,
            RigError::Io { .. } | RigError::RelayStuck { .. } => RigErrorKind::Io,
            RigError::NotConfigured { .. } => RigErrorKind::NotConfigured,
            RigError::BadPattern { .. } => RigErrorKind::Config,
        }
    }
}

fn on_off(on: bool) -> &'static str {
    if on {
        "on"
    } else {
        "off"
    }
}
