//! The pass thresholds and the one function that judges a run by them. The soak resolves the thresholds
//! (defaults included) into manifest.json when the run starts; the soak's exit code, `hil report`'s exit
//! code, the report's headline and junit.xml all come from [`judge`], so they cannot disagree.

use serde::{Deserialize, Serialize};

/// What counts as a pass, with every default resolved.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Failed cycles / decided cycles, 0.0..=1.0. Every failed cycle counts, infrastructure failures
    /// included: a nightly run with a flaky rig must not pass quietly.
    pub max_failure_rate: f64,
    /// Failed cycles any one board may have.
    pub max_failures_per_board: Option<u64>,
}

impl Default for Thresholds {
    /// A scenario without `[pass]`: no failure is acceptable.
    fn default() -> Self {
        Self {
            max_failure_rate: 0.0,
            max_failures_per_board: None,
        }
    }
}

/// Decided cycles and failed ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub cycles: u64,
    pub failures: u64,
}

impl Counts {
    /// Count one decided cycle.
    pub fn add(&mut self, failed: bool) {
        self.cycles += 1;
        self.failures += u64::from(failed);
    }

    /// Failures / cycles (0 when there are none).
    pub fn rate(self) -> f64 {
        match self.cycles {
            0 => 0.0,
            n => self.failures as f64 / n as f64,
        }
    }
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.cycles += other.cycles;
        self.failures += other.failures;
    }
}

/// One threshold checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdCheck {
    /// `failure rate`, or `failures on <board>`.
    pub name: String,
    /// `≤ 5.00 %`, `≤ 3`.
    pub limit: String,
    /// What the run reached, in the limit's unit.
    pub value: String,
    pub met: bool,
    /// The check in one sentence, with its numbers.
    pub sentence: String,
}

/// The run judged by its thresholds: every check, met or not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    pub checks: Vec<ThresholdCheck>,
}

impl Judgement {
    pub fn met(&self) -> bool {
        self.checks.iter().all(|c| c.met)
    }

    pub fn missed(&self) -> impl Iterator<Item = &ThresholdCheck> {
        self.checks.iter().filter(|c| !c.met)
    }
}

fn pct(x: f64) -> String {
    format!("{:.2} %", 100.0 * x)
}

/// Judge a run whose boards, by name, decided `boards` cycles.
pub fn judge<'a>(
    t: &Thresholds,
    boards: impl IntoIterator<Item = (&'a str, Counts)> + Clone,
) -> Judgement {
    let mut total = Counts::default();
    boards.clone().into_iter().for_each(|(_, c)| total += c);
    let met = total.rate() <= t.max_failure_rate;
    let mut checks = vec![ThresholdCheck {
        name: "failure rate".into(),
        limit: format!("≤ {}", pct(t.max_failure_rate)),
        value: pct(total.rate()),
        met,
        sentence: format!(
            "failure rate {} ({} of {} cycles) is {} max_failure_rate {}",
            pct(total.rate()),
            total.failures,
            total.cycles,
            if met { "within" } else { "above" },
            pct(t.max_failure_rate)
        ),
    }];
    if let Some(max) = t.max_failures_per_board {
        checks.extend(boards.into_iter().map(|(name, c)| {
            let met = c.failures <= max;
            ThresholdCheck {
                name: format!("failures on {name}"),
                limit: format!("≤ {max}"),
                value: c.failures.to_string(),
                met,
                sentence: format!(
                    "board {name} failed {} cycles, {} max_failures_per_board {max}",
                    c.failures,
                    if met { "within" } else { "above" }
                ),
            }
        }));
    }
    Judgement { checks }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(cycles: u64, failures: u64) -> Counts {
        Counts { cycles, failures }
    }

    #[test]
    fn without_a_pass_table_any_failure_misses() {
        let j = judge(&Thresholds::default(), [("a", counts(100, 1))]);
        assert!(!j.met());
        assert_eq!(
            j.missed().next().unwrap().sentence,
            "failure rate 1.00 % (1 of 100 cycles) is above max_failure_rate 0.00 %"
        );
        assert!(judge(&Thresholds::default(), [("a", counts(100, 0))]).met());
    }

    #[test]
    fn per_board_limits_check_every_board() {
        let t = Thresholds {
            max_failure_rate: 0.5,
            max_failures_per_board: Some(2),
        };
        let j = judge(&t, [("a", counts(10, 2)), ("b", counts(10, 3))]);
        assert_eq!(j.checks.len(), 3);
        let missed: Vec<&str> = j.missed().map(|c| c.name.as_str()).collect();
        assert_eq!(missed, ["failures on b"]);
    }
}
