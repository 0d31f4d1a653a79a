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
use std::sync::{Arc, Condvar, Mutex};
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
    /// Both streams' lines in the order they arrived (as near as two pipes allow: a line is placed when its
    /// end is read), for finding the first line that says something.
    pub merged: String,
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
    let output = Output::new();
    drain(child.stdout.take(), &output, STDOUT);
    drain(child.stderr.take(), &output, STDERR);
    let deadline = start + timeout;
    let exited = loop {
        match exited(&child) {
            Some(true) => break true,
            Some(false) if Instant::now() < deadline => std::thread::sleep(POLL),
            _ => break false,
        }
    };
    // The child is gone or past its deadline. Its group goes now, while the child is still unreaped, so its
    // process ID (the group's) cannot have been given to another process: a helper it left behind would
    // otherwise outlive the soak (and hold the pipes open).
    kill_group(&child);
    let status = child.wait().ok();
    let (stdout, stderr, merged) = output.collect(PIPE_GRACE);
    let done = Finished {
        code: status.and_then(|s| s.code()),
        signal: status.and_then(|s| s.signal()),
        stdout,
        stderr,
        merged,
        elapsed: start.elapsed(),
    };
    if !exited {
        return Err(ExecError::Timeout {
            waited: timeout,
            partial: done,
        });
    }
    Ok(done)
}

/// Whether the child has exited, without reaping it (`Some(false)`: still running; `None`: cannot tell).
fn exited(child: &Child) -> Option<bool> {
    use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
    use nix::unistd::Pid;
    let pid = Pid::from_raw(i32::try_from(child.id()).ok()?);
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
    match waitid(Id::Pid(pid), flags) {
        Ok(WaitStatus::StillAlive) => Some(false),
        Ok(_) => Some(true),
        Err(nix::errno::Errno::EINTR) => Some(false),
        Err(_) => None,
    }
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

const STDOUT: usize = 0;
const STDERR: usize = 1;

/// What the two pipes' reader threads have read so far, shared with the caller: a process that escaped the
/// group (`setsid`) may hold a pipe open for ever, and what was read by the end of the grace period is kept all
/// the same.
#[derive(Clone)]
struct Output(Arc<(Mutex<Captured>, Condvar)>);

#[derive(Default)]
struct Captured {
    streams: [Vec<u8>; 2],
    /// Each stream's line not yet ended.
    partial: [Vec<u8>; 2],
    merged: Vec<u8>,
    /// Pipes still being read.
    open: usize,
}

impl Captured {
    fn take(&mut self, stream: usize, bytes: &[u8]) {
        let kept = &mut self.streams[stream];
        kept.extend_from_slice(&bytes[..bytes.len().min(MAX_OUTPUT.saturating_sub(kept.len()))]);
        self.partial[stream].extend_from_slice(bytes);
        while let Some(end) = self.partial[stream].iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial[stream].drain(..=end).collect();
            self.merge(&line);
        }
        // An endless line (a progress bar without newlines) is placed in pieces rather than held in memory.
        if self.partial[stream].len() > MAX_OUTPUT {
            let piece = std::mem::take(&mut self.partial[stream]);
            self.merge(&piece);
        }
    }

    fn merge(&mut self, bytes: &[u8]) {
        let room = (2 * MAX_OUTPUT).saturating_sub(self.merged.len());
        self.merged
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    /// Places a stream's unended last line.
    fn end(&mut self, stream: usize) {
        let mut rest = std::mem::take(&mut self.partial[stream]);
        if !rest.is_empty() {
            rest.push(b'\n');
            self.merge(&rest);
        }
    }
}

impl Output {
    fn new() -> Self {
        Self(Arc::new((Mutex::new(Captured::default()), Condvar::new())))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Captured> {
        self.0 .0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// stdout, stderr and both merged, once both pipes ended or after `grace` at most.
    fn collect(&self, grace: Duration) -> (String, String, String) {
        let (_, ended) = &*self.0;
        let deadline = Instant::now() + grace;
        let mut c = self.lock();
        while c.open > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            c = ended
                .wait_timeout(c, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let mut merged = c.merged.clone();
        for p in &c.partial {
            if !p.is_empty() {
                merged.extend_from_slice(p);
                merged.push(b'\n');
            }
        }
        (
            text(&c.streams[STDOUT]),
            text(&c.streams[STDERR]),
            text(&merged),
        )
    }
}

/// Reads a pipe to its end on a thread into `output`.
fn drain(pipe: Option<impl Read + Send + 'static>, output: &Output, stream: usize) {
    let Some(mut pipe) = pipe else { return };
    output.lock().open += 1;
    let output = output.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
                Ok(n) => output.lock().take(stream, &buf[..n]),
            }
        }
        let mut c = output.lock();
        c.end(stream);
        c.open -= 1;
        output.0 .1.notify_all();
    });
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

    /// A helper that left the group (`setsid`) and keeps stdout open does not cost what was printed: it is kept
    /// once the grace period is over, and the call does not wait for the helper.
    #[test]
    fn output_is_kept_when_an_escaped_helper_holds_the_pipe_open() {
        let t = Instant::now();
        let f = run(
            &argv(&["sh", "-c", "echo hello; setsid sleep 4 & exit 0"]),
            Duration::from_secs(10),
            None,
        )
        .unwrap();
        assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
        assert_eq!((f.code, f.stdout.as_str()), (Some(0), "hello\n"));
        assert_eq!(f.merged, "hello\n");
    }

    #[test]
    fn the_merged_output_keeps_the_order_lines_came_in() {
        let f = run(
            &argv(&[
                "sh",
                "-c",
                "echo first >&2; sleep 0.2; echo second; sleep 0.2; printf third >&2",
            ]),
            Duration::from_secs(10),
            None,
        )
        .unwrap();
        assert_eq!(f.merged, "first\nsecond\nthird\n");
        assert_eq!(
            (f.stdout.as_str(), f.stderr.as_str()),
            ("second\n", "first\nthird")
        );
    }

    #[test]
    fn display_quotes_what_needs_it() {
        assert_eq!(
            display(&argv(&["curl", "-s", "http://p/cm?cmnd=Power Off"])),
            "curl -s \"http://p/cm?cmnd=Power Off\""
        );
    }
}
