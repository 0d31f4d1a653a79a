//! A soak run on disk: the run folder under reports/ (manifest, copies of the scenario and rig files,
//! cycles.csv, steps.csv), starting a new run or resuming a killed one, and recording the runner's events
//! one flushed row at a time. The runner decides; this module only keeps the record.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use records::{
    Manifest, RecordError, Recorder, RunStatus, CYCLES_CSV, MANIFEST_SCHEMA, RIG_COPY,
    SCENARIO_COPY, STEPS_CSV,
};

use crate::clocks::TargetDescription;
use crate::runner::{self, ResumePoint, RunEvent, RunSummary, StopSignal};
use crate::scenario::Scenario;
use tomlfile::FileError;

/// Why a soak could not start or go on (a harness fault, never a board's).
#[derive(Debug, thiserror::Error)]
pub enum SoakError {
    #[error(transparent)]
    Scenario(#[from] FileError),
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error(transparent)]
    Run(#[from] runner::RunError),
    #[error("{path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot resume {dir}: {why}")]
    Resume { dir: PathBuf, why: String },
}

/// A run folder ready to record into.
pub struct Soak {
    pub dir: PathBuf,
    pub scenario: Scenario,
    pub manifest: Manifest,
    pub resume: ResumePoint,
}

fn utc_now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

fn copy(from: &Path, to: PathBuf) -> Result<(), SoakError> {
    std::fs::copy(from, &to)
        .map(drop)
        .map_err(|source| SoakError::Io { path: to, source })
}

impl Soak {
    /// A new run of the scenario file `path`, in a new folder under `reports`.
    pub fn start(path: &Path, reports: &Path) -> Result<Self, SoakError> {
        let scenario = Scenario::load(path)?;
        let manifest = Manifest {
            schema: MANIFEST_SCHEMA,
            harness_version: env!("CARGO_PKG_VERSION").into(),
            scenario: scenario.name.clone(),
            scenario_file: absolute(&scenario.path),
            rig: scenario.rig.name.clone(),
            rig_file: absolute(&scenario.rig.path),
            boards: scenario.boards().map(|b| b.name.clone()).collect(),
            seed: scenario.seed,
            host: gethostname::gethostname().to_string_lossy().into_owned(),
            thresholds: scenario.pass,
            usb_tolerance_ppm: TargetDescription::stm32f7().bootloader.usb_tolerance_ppm,
            started_utc: utc_now(),
            ended_utc: None,
            status: RunStatus::Running,
            stop_reason: None,
            resumed: 0,
            phases_not_run: Vec::new(),
            instruments: Vec::new(),
        };
        // The folder appears whole (records::create_run_dir): the copies, the input hashes and the empty
        // record files first, the manifest last, all before it takes the run's name.
        let dir = records::create_run_dir(reports, &scenario.name, |dir| {
            copy(&scenario.path, dir.join(SCENARIO_COPY))?;
            copy(&scenario.rig.path, dir.join(RIG_COPY))?;
            crate::inputs::of(&scenario)
                .and_then(|i| crate::inputs::write(dir, &i))
                .map_err(|source| SoakError::Io {
                    path: dir.join(crate::inputs::INPUTS_JSON),
                    source,
                })?;
            Recorder::create(dir)?;
            manifest.write(dir)?;
            Ok::<_, SoakError>(())
        })?;
        Ok(Self {
            dir,
            scenario,
            manifest,
            resume: ResumePoint::default(),
        })
    }

    /// Continue the run in `dir` where its records stop. The scenario and rig files must still say what
    /// they said when the run started (the folder keeps copies to compare).
    pub fn resume(dir: &Path) -> Result<Self, SoakError> {
        let refuse = |why: String| SoakError::Resume {
            dir: dir.to_path_buf(),
            why,
        };
        if records::is_staging(dir) {
            return Err(refuse(
                "it was still being created when its soak was killed, so the run never started and \
                 recorded nothing; start the scenario again (this folder can be deleted)"
                    .into(),
            ));
        }
        let mut manifest = Manifest::read(dir)?;
        // Every run folder is created whole, so a missing record file was removed afterwards: resuming would
        // record the rest of the run without its beginning.
        for file in [CYCLES_CSV, STEPS_CSV] {
            if !dir.join(file).is_file() {
                return Err(refuse(format!(
                    "{file} is missing: the folder is not as its soak left it"
                )));
            }
        }
        if !dir.join(crate::inputs::INPUTS_JSON).is_file() {
            return Err(refuse(format!(
                "{} is missing, so the board and image files cannot be checked against what the run started with \
                 (a folder made by a harness from before it was recorded, or damaged); start the scenario again",
                crate::inputs::INPUTS_JSON
            )));
        }
        for (original, kept) in [
            (&manifest.scenario_file, SCENARIO_COPY),
            (&manifest.rig_file, RIG_COPY),
        ] {
            let now = std::fs::read(original)
                .map_err(|e| refuse(format!("{}: {e}", original.display())))?;
            let then = std::fs::read(dir.join(kept)).map_err(|e| refuse(format!("{kept}: {e}")))?;
            if now != then {
                return Err(refuse(format!(
                    "{} changed since the run started",
                    original.display()
                )));
            }
        }
        if let Some(why) = crate::inputs::changed(dir).map_err(&refuse)? {
            return Err(refuse(why));
        }
        let scenario = Scenario::load(&manifest.scenario_file)?;
        let replaying: Vec<String> = scenario
            .boards()
            .filter(|b| matches!(b.wiring, crate::rig::Wiring::Virtual(_)))
            .map(|b| b.name.clone())
            .collect();
        let resume = runner::resume_point(dir, &replaying)?;
        manifest.status = RunStatus::Running;
        manifest.ended_utc = None;
        manifest.resumed += 1;
        manifest.phases_not_run.clear();
        manifest.write(dir)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            scenario,
            manifest,
            resume,
        })
    }

    /// Run (the rest of) the soak, recording every step and cycle as it ends; `also` sees every event too
    /// (live progress). Writes the manifest's end state whatever happens.
    pub fn run(
        self,
        stop: &StopSignal,
        also: impl FnMut(&RunEvent),
    ) -> Result<(PathBuf, RunSummary), SoakError> {
        self.run_with(stop, &|_, _| {}, also)
    }

    /// As [`Soak::run`], calling `prepare` with each virtual board first (tests inject faults with it).
    pub fn run_with(
        mut self,
        stop: &StopSignal,
        prepare: runner::PrepareBoard<'_>,
        mut also: impl FnMut(&RunEvent),
    ) -> Result<(PathBuf, RunSummary), SoakError> {
        let mut recorder = Recorder::open(&self.dir)?;
        let (manifest, dir) = (&mut self.manifest, &self.dir);
        let result = runner::run(
            &self.scenario,
            &self.dir,
            &self.resume,
            stop,
            prepare,
            |event| {
                also(event);
                match event {
                    RunEvent::Step { row, .. } => recorder.step(row)?,
                    RunEvent::Cycle { row, .. } => recorder.cycle(row)?,
                    RunEvent::Instruments(found) => {
                        manifest.add_instruments(found);
                        manifest.write(dir)?;
                    }
                    _ => {}
                }
                Ok(())
            },
        );
        self.manifest.ended_utc = Some(utc_now());
        match &result {
            Ok(summary) => {
                self.manifest.status = summary.status;
                self.manifest.stop_reason = summary.stop_reason.clone();
                self.manifest.phases_not_run = summary.phases_not_run.clone();
            }
            Err(e) => {
                self.manifest.status = RunStatus::Stopped;
                self.manifest.stop_reason = Some(format!("harness error: {e}"));
            }
        }
        self.manifest.write(&self.dir)?;
        Ok((self.dir, result?))
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}
