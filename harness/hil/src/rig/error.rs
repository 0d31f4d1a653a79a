//! [`RigError`]: a rig action that did not happen as the rig file says it should. All of these are
//! infrastructure failures; the runner records them as kind `Rig`, never against the board.

/// Coarse class of a [`RigError`], for callers to branch on and records to group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RigErrorKind {
    Timeout,
    Garbled,
    Io,
    /// A rig command line (`exec`) could not be run or exited non-zero.
    Exec,
    /// A SCPI instrument put an error in its error queue.
    Instrument,
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
    /// An `exec` rig command could not start (no such program) or ended unsuccessfully.
    #[error("rig command `{command}`: {why}")]
    Exec { command: String, why: String },
    /// An `exec` rig command ran past its timeout; its process group was killed.
    #[error("rig command `{command}`: did not finish within {waited_ms} ms; its process group was killed{}", output_tail(.stdout))]
    ExecTimeout {
        command: String,
        waited_ms: u64,
        stdout: String,
    },
    /// An `exec` rig command succeeded but its output is not what the rig file expects.
    #[error("rig command `{command}`: its output does not match {expected:?}{}", output_tail(.stdout))]
    ExecGarbled {
        command: String,
        stdout: String,
        expected: String,
    },
    /// A SCPI instrument reported an error for the command (`SYST:ERR?`).
    #[error("rig {port}: the instrument reports {error} after {command:?}")]
    Instrument {
        port: String,
        command: String,
        error: String,
    },
    /// A USB hub that should switch a board's port power cannot: not there, no access, no per-port switching, or
    /// a request it refused.
    #[error("rig: USB hub {hub} port {port}: {why}")]
    Hub { hub: String, port: u8, why: String },
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
            RigError::Timeout { .. } | RigError::ExecTimeout { .. } => RigErrorKind::Timeout,
            RigError::Garbled { .. } | RigError::ExecGarbled { .. } => RigErrorKind::Garbled,
            RigError::Exec { .. } => RigErrorKind::Exec,
            RigError::Instrument { .. } => RigErrorKind::Instrument,
            RigError::Io { .. } | RigError::RelayStuck { .. } | RigError::Hub { .. } => {
                RigErrorKind::Io
            }
            RigError::NotConfigured { .. } => RigErrorKind::NotConfigured,
            RigError::BadPattern { .. } => RigErrorKind::Config,
        }
    }
}

/// The last lines of a command's output for a message ("; it printed: …"), or nothing when it printed nothing.
pub(crate) fn output_tail(output: &str) -> String {
    const KEEP: usize = 3;
    let lines: Vec<&str> = output.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return "; it printed nothing".into();
    }
    let tail = &lines[lines.len().saturating_sub(KEEP)..];
    let mut text = tail.join(" | ");
    if text.chars().count() > 300 {
        text = text.chars().take(300).collect::<String>() + "…";
    }
    format!("; it printed: {text}")
}

fn on_off(on: bool) -> &'static str {
    if on {
        "on"
    } else {
        "off"
    }
}
