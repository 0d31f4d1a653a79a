//! Scenario files: which rig and boards to soak, the phases (cycle count or duration, chamber set-point), the
//! steps of one cycle, and the retry, stop and pass rules, validated into a [`Scenario`] the runner consumes.
//! Must not run anything: no I/O beyond reading the scenario, rig, board and image files it names.

mod image;
mod load;
mod raw;
mod spec;
mod steps;

pub use image::generate_image;
pub use spec::{
    Action, CycleRetry, ExecStep, ImageSource, Phase, PhaseLength, RetryOn, Scenario, Step,
    StopRules, EXEC_PLACEHOLDERS,
};
