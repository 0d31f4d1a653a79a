//! The `exec` step: an external tool (STM32_Programmer_CLI, dfu-util) run against the board with its
//! placeholders filled in, judged by its exit code and its output, and logged whole in the run folder's `exec/`
//! folder. A tool that reports failure is the board's failure (it is what the seed's engineers saw); a tool
//! that is not installed is the harness's.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use records::ErrorKind;
use regex::Regex;

use super::failure::StepError;
use crate::rig::exec::{self, ExecError, Finished};
use crate::rig::protocol::{render, Var};
use crate::scenario::ExecStep;

/// Where and as what one exec step runs: the values of its placeholders.
#[derive(Debug, Clone, Default)]
pub(crate) struct StepContext {
    pub phase: String,
    pub cycle: u64,
    pub attempt: u32,
    pub index: usize,
    pub try_number: u32,
}

/// What the exec step needs of the board.
pub(crate) struct ExecBoard<'a> {
    pub name: &'a str,
    pub usb_serial: Option<&'a str>,
    pub usb_path: Option<&'a str>,
}

/// The run folder's subfolder for exec steps: their working directory, output files and logs.
pub const EXEC_DIR: &str = "exec";

/// Runs the step; `Ok(note)` is the passing step's detail (exit code and time).
pub(crate) fn run(
    step: &ExecStep,
    board: &ExecBoard<'_>,
    ctx: &StepContext,
    run_dir: &Path,
    timeout: Duration,
) -> Result<String, StepError> {
    // Absolute: the tool runs in exec/, where a run folder given as a relative path would not resolve.
    let run_dir = &std::path::absolute(run_dir).unwrap_or_else(|_| run_dir.to_path_buf());
    let exec_dir = run_dir.join(EXEC_DIR);
    std::fs::create_dir_all(&exec_dir)
        .map_err(|e| StepError::harness(format!("cannot create {}: {e}", exec_dir.display())))?;
    let step_id = free_step_id(
        &exec_dir,
        &format!(
            "{}-{}-c{}-a{}-s{}-t{}",
            board.name, ctx.phase, ctx.cycle, ctx.attempt, ctx.index, ctx.try_number
        ),
    );
    let vars: Vec<Var<'_>> = vec![
        ("board", board.name.to_string()),
        (
            "usb_serial",
            board.usb_serial.unwrap_or_default().to_string(),
        ),
        ("usb_path", board.usb_path.unwrap_or_default().to_string()),
        ("phase", ctx.phase.clone()),
        ("cycle", ctx.cycle.to_string()),
        ("attempt", ctx.attempt.to_string()),
        ("try", ctx.try_number.to_string()),
        ("run_dir", run_dir.display().to_string()),
        ("exec_dir", exec_dir.display().to_string()),
        ("step_id", step_id.clone()),
    ];
    let argv: Vec<String> = step.command.iter().map(|a| render(a, &vars)).collect();
    let shown = exec::display(&argv);
    let log = exec_dir.join(format!("{step_id}.log"));
    // Written before the tool starts, so a try that hil never saw end (hil killed, the machine down) leaves its
    // log saying so, and a resumed run's try of the same step gets a name of its own.
    write_text(
        &log,
        &format!(
            "command: {shown}\nstatus: running (a log left like this is of a try hil did not see end)\n"
        ),
    );
    let result = exec::run(&argv, timeout, Some(&exec_dir));
    let done = match result {
        Ok(done) => done,
        Err(ExecError::Timeout { waited, partial }) => {
            write_log(&log, &shown, &partial, "timed out");
            return Err(StepError {
                kind: ErrorKind::Timeout,
                detail: format!(
                    "`{shown}` did not finish within {} ms; its process group was killed{} (log: {})",
                    waited.as_millis(),
                    last_line(&partial),
                    shown_path(&log, run_dir)
                ),
            });
        }
        Err(e) => {
            write_text(
                &log,
                &format!("command: {shown}\nstatus: not started: {e}\n"),
            );
            return Err(StepError::harness(format!("`{shown}`: {e}")));
        }
    };
    let verdict = judge(step, &done);
    write_log(
        &log,
        &shown,
        &done,
        verdict.as_ref().err().map_or("passed", |_| "failed"),
    );
    let log = shown_path(&log, run_dir);
    let ms = done.elapsed.as_millis();
    match verdict {
        Ok(()) => Ok(format!("{}, {ms} ms (log: {log})", done.status())),
        Err(why) => Err(StepError {
            kind: ErrorKind::Exec,
            detail: format!("`{shown}`: {why}; {ms} ms (log: {log})"),
        }),
    }
}

/// `base`, or when a log of that name is already in `exec_dir` (the same try of a cycle a killed run did not
/// finish), `base-r2`, `base-r3`, …: a rerun must not meet the files of the try it repeats (dfu-util refuses to
/// upload over an existing file).
fn free_step_id(exec_dir: &Path, base: &str) -> String {
    let taken = |id: &str| exec_dir.join(format!("{id}.log")).exists();
    if !taken(base) {
        return base.to_string();
    }
    (2u32..)
        .map(|n| format!("{base}-r{n}"))
        .find(|id| !taken(id))
        .expect("some rerun number is free")
}

/// Why the step failed, if it did: a `fail` line, a non-zero exit, or no `pass` line, in that order.
fn judge(step: &ExecStep, done: &Finished) -> Result<(), String> {
    // Both streams in the order their lines came, so the first failure line is the first the tool printed.
    let output = &done.merged;
    let compile = |p: &str| Regex::new(&format!("(?m){p}")).ok();
    if let Some(fail) = step.fail.as_deref().and_then(compile) {
        if let Some(line) = output.lines().find(|l| fail.is_match(l)) {
            return Err(format!(
                "failure line {:?} ({})",
                clean(line),
                done.status()
            ));
        }
    }
    if !done.success() {
        let said = output
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| format!(", last line {:?}", clean(l)))
            .unwrap_or_default();
        return Err(format!("{}{said}", done.status()));
    }
    if let Some(pass) = step.pass.as_deref() {
        if !compile(pass).is_some_and(|re| output.lines().any(|l| re.is_match(l))) {
            return Err(format!(
                "no line of its output matches the pass pattern {pass:?} ({})",
                done.status()
            ));
        }
    }
    Ok(())
}

/// A line of a tool's output for a record: progress bars overwrite with CR, so the text after the last one.
fn clean(line: &str) -> String {
    let line = line
        .rsplit('\r')
        .find(|s| !s.trim().is_empty())
        .unwrap_or(line);
    let line = line.trim();
    if line.chars().count() > 200 {
        line.chars().take(200).collect::<String>() + "…"
    } else {
        line.to_string()
    }
}

fn last_line(partial: &Finished) -> String {
    partial
        .merged
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| format!("; its last line {:?}", clean(l)))
        .unwrap_or_default()
}

/// The log's path relative to the run folder, as a record shows it.
fn shown_path(log: &Path, run_dir: &Path) -> String {
    log.strip_prefix(run_dir)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| PathBuf::from(log))
        .display()
        .to_string()
}

/// The whole run of the tool, for the engineer who opens it. A log that cannot be written loses only itself.
fn write_log(path: &Path, command: &str, done: &Finished, verdict: &str) {
    let text = format!(
        "command: {command}\nstatus: {}\nelapsed_ms: {}\nverdict: {verdict}\n--- stdout ---\n{}\n--- stderr ---\n{}\n",
        done.status(),
        done.elapsed.as_millis(),
        done.stdout,
        done.stderr
    );
    write_text(path, &text);
}

fn write_text(path: &Path, text: &str) {
    if let Ok(mut f) = std::fs::File::create(path) {
        let _ = f.write_all(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finished(code: i32, stdout: &str) -> Finished {
        Finished {
            code: Some(code),
            signal: None,
            stdout: stdout.into(),
            stderr: String::new(),
            merged: stdout.into(),
            elapsed: Duration::from_millis(5),
        }
    }

    fn step(pass: Option<&str>, fail: Option<&str>) -> ExecStep {
        ExecStep {
            command: vec!["x".into()],
            pass: pass.map(Into::into),
            fail: fail.map(Into::into),
        }
    }

    #[test]
    fn a_fail_line_fails_even_with_exit_code_0_and_is_named() {
        let out = "Opening DFU capable USB device...\nUploading Option Bytes bank: 0 failed\nUpload done.\n";
        let s = step(Some("Upload done"), Some("failed"));
        assert_eq!(
            judge(&s, &finished(0, out)),
            Err("failure line \"Uploading Option Bytes bank: 0 failed\" (exit code 0)".into())
        );
    }

    #[test]
    fn a_non_zero_exit_fails_with_its_last_line() {
        let s = step(None, None);
        let e = judge(
            &s,
            &finished(
                74,
                "Download\t[====] 40%\rdfu-util: Error during download\n",
            ),
        )
        .unwrap_err();
        assert_eq!(
            e,
            "exit code 74, last line \"dfu-util: Error during download\""
        );
    }

    #[test]
    fn a_missing_pass_line_fails() {
        let s = step(Some("^Upload done"), None);
        assert!(judge(&s, &finished(0, "nothing\n")).is_err());
        assert_eq!(judge(&s, &finished(0, "x\nUpload done.\n")), Ok(()));
    }
}
