//! Running one external command line (uhubctl, labgrid-client, a PDU's CLI, dfu-util) with a deadline: no shell,
//! its own process group, stdout and stderr collected, and on a timeout the whole group killed, so a tool's
//! helper processes die with it. Used by exec rig commands and exec scenario steps.
//!
//! Own code rather than a crate: `std::process` spawns, but has no wait with a deadline and kills only the child,
//! not its group; `wait-timeout` adds the deadline but still not the group kill or the concurrent pipe reading a
//! chatty tool needs (a full pipe would block it until the deadline).

use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// How often a running command is checked for having ended.
const POLL: Duration = Duration::from_millis(5);
/// How long the pipes may stay open after the command's group was killed.
const PIPE_GRACE: Duration = Duration::from_secs(1);
/// Most output kept per stream; the rest is counted, not stored (a tool stuck printing must not fill memory).
pub const MAX_OUTPUT: usize = 1 << 20;

/// What a command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// The exit code, or `None` when a signal ended it.
    pub code: Option<i32>,
    /// The signal that ended it, if one did.
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Finished {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// "exit code 3" or "killed by signal 9".
    pub fn status(&self) -> String {
        match (self.code, self.signal) {
            (Some(c), _) => format!("exit code {c}"),
            (None, Some(s)) => format!("killed by signal {s}"),
            (None, None) => "no exit status".into(),
        }
    }
}

/// Why a command did not finish.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The program is not on PATH or the path does not exist.
    #[error("no such program {program:?} (not found on PATH)")]
    NotFound { program: String },
    /// It exists but could not be started (permissions, not an executable).
    #[error("cannot start {program:?}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    /// It ran past its deadline; its process group was killed. What it printed until then is kept.
    #[error("did not finish within {} ms; its process group was killed", .waited.as_millis())]
    Timeout { waited: Duration, partial: Finished },
}

/// Runs `argv` (program and arguments, no shell) with stdin closed, in its own process group, for at most
/// `timeout`. `cwd`, when given, is its working directory.
pub fn run(
    argv: &[String],
    timeout: Duration,
    cwd: Option<&std::path::Path>,
) -> Result<Finished, ExecError> {
    let program = argv.first().cloned().unwrap_or_default();
    let mut command = Command::new(&program);
    command
        .args(&argv[1.min(argv.len())..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    if let Some(dir) = cwd {
        command.current_dir(dir);
    }
    let start = Instant::now();
    let mut child = command.spawn().map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => ExecError::NotFound {
            program: program.clone(),
        },
        _ => ExecError::Spawn {
            program: program.clone(),
            source,
        },
    })?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = start + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => break None,
            Ok(None) => std::thread::sleep(POLL),
            Err(_) => break None,
        }
    };
    // The child is gone or past its deadline. Its group goes now: a helper it left behind would otherwise
    // outlive the soak (and hold the pipes open).
    kill_group(&child);
    let timed_out = status.is_none();
    let reaped = child.wait().ok();
    let status = status.or(reaped);
    let done = Finished {
        code: status.and_then(|s| s.code()),
        signal: status.and_then(|s| s.signal()),
        stdout: collect(stdout),
        stderr: collect(stderr),
        elapsed: start.elapsed(),
    };
    if timed_out {
        return Err(ExecError::Timeout {
            waited: timeout,
            partial: done,
        });
    }
    Ok(done)
}

/// What a pipe's reader thread read; a process that escaped the group (`setsid`) may hold the pipe open for ever,
/// so the wait for the end is bounded and what was read by then is kept.
fn collect(reader: Receiver<String>) -> String {
    reader.recv_timeout(PIPE_GRACE).unwrap_or_default()
}

/// SIGKILL to the child's whole process group (the child is its leader: `process_group(0)`).
fn kill_group(child: &Child) {
    use nix::sys::signal::{killpg, Signal};
    use nix::unistd::Pid;
    if let Ok(pid) = i32::try_from(child.id()) {
        // ESRCH (the group is already gone) is the normal case after a clean exit.
        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
    }
}

/// Reads a pipe to its end on a thread, keeping at most [`MAX_OUTPUT`] bytes.
fn drain(pipe: Option<impl Read + Send + 'static>) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let Some(mut pipe) = pipe else {
            let _ = tx.send(String::new());
            return;
        };
        let mut kept = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let room = MAX_OUTPUT.saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                }
            }
        }
        let _ = tx.send(String::from_utf8_lossy(&kept).into_owned());
    });
    rx
}

/// `argv` as one line for messages: arguments with spaces or quotes are quoted.
pub fn display(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if a.is_empty() || a.contains([' ', '"', '\'', '\t']) {
                format!("{a:?}")
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn output_and_exit_code_are_kept() {
        let f = run(
            &argv(&["sh", "-c", "echo out; echo err >&2; exit 3"]),
            Duration::from_secs(5),
            None,
        )
        .unwrap();
        assert_eq!(
            (f.code, f.stdout.as_str(), f.stderr.as_str()),
            (Some(3), "out\n", "err\n")
        );
        assert_eq!(f.status(), "exit code 3");
    }

    #[test]
    fn a_missing_program_is_named_not_a_timeout() {
        let e = run(&argv(&["no-such-tool-hil"]), Duration::from_secs(5), None).unwrap_err();
        assert!(matches!(e, ExecError::NotFound { .. }), "{e}");
        assert!(e.to_string().contains("no such program"), "{e}");
    }

    /// A timeout kills the whole group: the grandchild `sleep` does not outlive the command, and the call
    /// returns at the deadline, not when the grandchild would have ended.
    #[test]
    fn a_timeout_kills_the_process_group() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        let script = format!(
            "sleep 30 & echo $! > {}; echo started; wait",
            pidfile.display()
        );
        let t = Instant::now();
        let e = run(
            &argv(&["sh", "-c", &script]),
            Duration::from_millis(500),
            None,
        )
        .unwrap_err();
        assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
        let ExecError::Timeout { partial, .. } = e else {
            panic!("{e}")
        };
        assert_eq!(partial.stdout, "started\n");
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // Reaped by init or a zombie for a moment at most: gone from the process table, or dead.
        let alive = || {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map(|s| !s.contains(") Z "))
                .unwrap_or(false)
        };
        let wait = Instant::now();
        while alive() && wait.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!alive(), "the grandchild {pid} survived the timeout");
    }

    #[test]
    fn a_flood_of_output_neither_blocks_nor_fills_memory() {
        let f = run(
            &argv(&["sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' x"]),
            Duration::from_secs(20),
            None,
        )
        .unwrap();
        assert!(f.success());
        assert_eq!(f.stdout.len(), MAX_OUTPUT);
    }

    #[test]
    fn display_quotes_what_needs_it() {
        assert_eq!(
            display(&argv(&["curl", "-s", "http://p/cm?cmnd=Power Off"])),
            "curl -s \"http://p/cm?cmnd=Power Off\""
        );
    }
}
