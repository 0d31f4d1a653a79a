//! The run loop: every board in parallel (one worker thread per board), phase by phase; events go to the
//! caller's sink through a bounded channel, run-wide stop rules are checked as the events arrive.

use std::sync::atomic::AtomicU64;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use records::RunStatus;
use vboard::board_seed;

use super::board::{BoardRun, Shared};
use super::failure;
use super::worker::{run_phase, PhaseEnd, PhaseJob};
use super::{ResumePoint, RunError, RunEvent, RunSummary, StopSignal};
use crate::clocks::TargetDescription;
use crate::image::Image;
use crate::rig::{SerialRig, Wiring};
use crate::scenario::{generate_image, Action, ImageSource, Scenario};
use crate::transport::VirtualBoard;

/// Events a worker may get ahead of the recorder.
const EVENT_BACKLOG: usize = 1024;

/// Called with each virtual board before the run starts (tests inject faults through it).
pub type PrepareBoard<'a> = &'a dyn Fn(&str, &VirtualBoard);

/// Run `scenario`, starting from `resume` (empty for a new run). `sink` sees every event in order per
/// board; an error from it stops the run (the boards finish their current cycle first).
pub fn run<S>(
    scenario: &Scenario,
    run_dir: &std::path::Path,
    resume: &ResumePoint,
    stop: &StopSignal,
    prepare: PrepareBoard<'_>,
    mut sink: S,
) -> Result<RunSummary, RunError>
where
    S: FnMut(&RunEvent) -> Result<(), Box<dyn std::error::Error + Send + Sync>>,
{
    let shared = Shared {
        target: Arc::new(TargetDescription::stm32f7()),
        images: Arc::new(prepare_images(scenario)?),
        run_dir: Arc::new(run_dir.to_path_buf()),
    };
    let (mut boards, instruments) = build_boards(scenario, &shared)?;
    for b in &boards {
        if let Some(board) = b.virtual_board() {
            prepare(&b.spec.name, board);
        }
    }
    let names: Vec<String> = boards.iter().map(|b| b.spec.name.clone()).collect();
    let mut summary = RunSummary::new(&names);
    summary.continue_from(resume);
    let mut active: Vec<bool> = vec![true; boards.len()];
    let failures = AtomicU64::new(summary.failures());
    let stop_rule = Mutex::new(None);
    let mut sink_error = None;
    if !instruments.is_empty() {
        sink(&RunEvent::Instruments(instruments)).map_err(RunError::Sink)?;
    }
    for (pi, phase) in scenario.phases.iter().enumerate() {
        if stop.requested() || !active.contains(&true) {
            summary.phases_not_run = scenario.phases[pi..]
                .iter()
                .map(|p| p.name.clone())
                .collect();
            break;
        }
        enter_phase(&mut boards, phase.temperature_c, phase.settle)?;
        summary.absorb(&RunEvent::PhaseStarted {
            index: pi,
            name: phase.name.clone(),
        });
        let _ = sink(&RunEvent::PhaseStarted {
            index: pi,
            name: phase.name.clone(),
        });
        // Bounded: when the recorder falls behind, the boards wait for it instead of piling events up in
        // memory, so memory stays flat however long the run.
        let (tx, rx) = mpsc::sync_channel(EVENT_BACKLOG);
        std::thread::scope(|s| {
            for (bi, b) in boards.iter_mut().enumerate().filter(|(i, _)| active[*i]) {
                let job = PhaseJob {
                    scenario,
                    phase,
                    board: bi,
                    progress: resume.progress(&b.spec.name, &phase.name),
                    replay: b.virtual_board().is_some(),
                    resume,
                    seed: seed_of(scenario, bi),
                    phase_index: pi,
                    stop: &stop.0,
                    failures: &failures,
                    stop_rule: &stop_rule,
                    events: tx.clone(),
                };
                let events = tx.clone();
                s.spawn(move || {
                    if let PhaseEnd::BoardStopped(reason) = run_phase(b, job) {
                        let _ = events.send(RunEvent::BoardStopped { board: bi, reason });
                    }
                });
            }
            drop(tx);
            for event in rx {
                summary.absorb(&event);
                if let RunEvent::BoardStopped { board, .. } = &event {
                    active[*board] = false;
                }
                if let Some(reason) = summary.global_stop(scenario) {
                    summary.stop(RunStatus::Stopped, reason);
                    stop.request();
                }
                if let Err(e) = sink(&event) {
                    sink_error.get_or_insert(e);
                    stop.request();
                }
            }
        });
        if let Some(e) = sink_error.take() {
            return Err(RunError::Sink(e));
        }
    }
    end_status(
        &mut summary,
        stop,
        stop_rule.into_inner().unwrap_or(None),
        &active,
    );
    overshoot(&mut summary, scenario.stop.max_failures);
    Ok(summary)
}

/// `max_failures` is checked before each cycle; boards already in a cycle when it is reached finish that
/// cycle, and it may fail too. The stop reason then gives the true count, so it never reads as less than what
/// cycles.csv holds.
fn overshoot(summary: &mut RunSummary, max_failures: Option<u64>) {
    let (Some(max), failures) = (max_failures, summary.failures()) else {
        return;
    };
    if let Some(reason) = summary.stop_reason.as_mut() {
        if reason.contains("max_failures") && failures > max {
            reason.push_str(&format!(
                "; {failures} failed in all: boards already in a cycle when it was reached finished that cycle"
            ));
        }
    }
}

/// How the run ended, unless a run-wide stop rule already said: stopped by the rule a worker found met
/// before its next cycle, stopped because every board stopped, interrupted (a stop request and no rule),
/// or finished.
fn end_status(summary: &mut RunSummary, stop: &StopSignal, rule: Option<String>, active: &[bool]) {
    if summary.status != RunStatus::Running {
        return;
    }
    match rule {
        Some(reason) => summary.stop(RunStatus::Stopped, reason),
        None if !active.contains(&true) && !active.is_empty() => summary.stop(
            RunStatus::Stopped,
            "every board stopped (max_consecutive_failures)".into(),
        ),
        None if stop.requested() => summary.stop(RunStatus::Interrupted, "interrupted".into()),
        None => summary.status = RunStatus::Finished,
    }
}

/// The seed of board `index`'s draws: its rig-file seed mixed with the run's.
fn seed_of(scenario: &Scenario, index: usize) -> u64 {
    let spec = &scenario.rig.boards[scenario.boards[index]];
    match &spec.wiring {
        Wiring::Virtual(w) => board_seed(scenario.seed, w.seed),
        Wiring::Controller { .. } => scenario.seed,
    }
}

fn prepare_images(scenario: &Scenario) -> Result<Vec<(ImageSource, Image)>, RunError> {
    let mut out: Vec<(ImageSource, Image)> = Vec::new();
    for step in &scenario.cycle {
        let Action::Flash { image, address, .. } = &step.action else {
            continue;
        };
        if out.iter().any(|(s, _)| s == image) {
            continue;
        }
        let loaded = match image {
            ImageSource::Generate { size, seed } => Image::from_bin(
                &generate_image(*size, *seed),
                address.unwrap_or(TargetDescription::stm32f7().memory.flash_base),
            ),
            ImageSource::File(path) => Image::load(path, *address),
        };
        out.push((
            image.clone(),
            loaded.map_err(|e| RunError::Image(format!("{image:?}"), e))?,
        ));
    }
    Ok(out)
}

/// The boards, and the SCPI instruments the rig found.
fn build_boards(
    scenario: &Scenario,
    shared: &Shared,
) -> Result<(Vec<BoardRun>, Vec<records::Instrument>), RunError> {
    let serial = if scenario.rig.is_virtual() {
        None
    } else {
        Some(open_serial(scenario)?)
    };
    let mut out = Vec::new();
    for spec in scenario.boards() {
        let setup = |detail: String| RunError::Setup {
            board: spec.name.clone(),
            detail,
        };
        let run = match (&spec.wiring, &serial) {
            (Wiring::Virtual(w), _) => {
                let seed = board_seed(scenario.seed, w.seed);
                let b = BoardRun::new_virtual(spec, seed, w.port, shared)
                    .map_err(|e| setup(e.detail))?;
                if let Some(board) = b.virtual_board() {
                    board.lock().power_on(Duration::ZERO);
                }
                b
            }
            (Wiring::Controller { .. }, Some(rig)) => {
                let control = rig.control(spec).map_err(|e| setup(failure::chain(&e)))?;
                BoardRun::new_real(spec, control, shared)
            }
            (Wiring::Controller { .. }, None) => return Err(setup("no rig controller".into())),
        };
        out.push(run);
    }
    let instruments = serial.map(|s| s.identities).unwrap_or_default();
    Ok((out, instruments))
}

fn open_serial(scenario: &Scenario) -> Result<SerialRig, RunError> {
    SerialRig::open(&scenario.rig).map_err(|e| RunError::Setup {
        board: scenario.rig.name.clone(),
        detail: failure::chain(&e),
    })
}

/// Chamber set-point and settling. Virtual boards each live in their own time, so each is set and settled;
/// a real rig shares one chamber and one clock: set and settled once. A chamber that cannot be set is a
/// harness fault: the phase would not test what it says.
fn enter_phase(
    boards: &mut [BoardRun],
    temperature: Option<f64>,
    settle: Duration,
) -> Result<(), RunError> {
    let mut real_done = false;
    for b in boards.iter_mut() {
        let is_virtual = b.virtual_board().is_some();
        if !is_virtual && real_done {
            continue;
        }
        if let Some(c) = temperature {
            b.control.set_temperature(c).map_err(|e| RunError::Setup {
                board: b.spec.name.clone(),
                detail: format!("setting the chamber to {c} °C: {}", failure::chain(&e)),
            })?;
        }
        b.clock.sleep(settle);
        real_done |= !is_virtual;
    }
    Ok(())
}
