//! The kill campaign, shared by its test (a bounded number of kills) and its bench (50 kills, the figure in
//! README): `hil soak` processes killed with SIGKILL at random points — while the run folder is being created,
//! before the first cycle, mid-run, while a resume reads the records back, and again and again on one folder —
//! on scenarios with settle times, a stop rule and cycle retries (fixtures/kills). After every kill the records
//! must parse and agree, row for row, with an uninterrupted run of the same scenario; resumed to the end, the
//! folder must hold exactly that run: no cycle lost, none duplicated, none different.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use records::{read_all, CycleRow, Manifest, StepRow, CYCLES_CSV, STAGING_PREFIX, STEPS_CSV};

/// The campaign's scenarios, in fixtures/kills.
pub const SCENARIOS: [&str; 4] = ["plain", "settle", "stop", "retries"];

/// Where a kill landed, as the folder it left shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Window {
    /// No run folder yet, not even a staging one.
    BeforeTheFolder,
    /// A hidden staging folder, or the claimed empty name: the folder was being created.
    CreatingTheFolder,
    /// The run folder, complete, with no cycle recorded.
    BeforeTheFirstCycle,
    /// A first run, with cycles recorded.
    MidRun,
    /// A resume that had recorded nothing new yet (reading the records back, cutting a torn row).
    Resuming,
    /// A resume that had recorded cycles.
    MidResume,
}

impl Window {
    pub fn describe(self) -> &'static str {
        match self {
            Window::BeforeTheFolder => "before the run folder existed",
            Window::CreatingTheFolder => "while the run folder was being created",
            Window::BeforeTheFirstCycle => "after the folder appeared, before the first cycle",
            Window::MidRun => "mid-run",
            Window::Resuming => "while resuming, before the resume recorded a cycle",
            Window::MidResume => "mid-run after a resume",
        }
    }
}

/// What a campaign found. Every count but `kills`, `missed`, `chains`, `longest_chain` and `windows` must be 0.
#[derive(Debug, Default)]
pub struct Tally {
    pub kills: usize,
    /// Kills that came after the process had already ended (not counted in `kills`).
    pub missed: usize,
    pub chains: usize,
    pub longest_chain: usize,
    pub windows: BTreeMap<Window, usize>,
    pub by_scenario: BTreeMap<&'static str, usize>,
    pub lost: usize,
    pub duplicated: usize,
    pub differing: usize,
    pub unresumable: usize,
    pub unparsable: usize,
    /// Runs that neither ended nor reached their kill point within [`HANG`].
    pub hung: usize,
    /// What went wrong, one line each (empty when all is well).
    pub problems: Vec<String>,
}

impl Tally {
    pub fn clean(&self) -> bool {
        self.lost
            + self.duplicated
            + self.differing
            + self.unresumable
            + self.unparsable
            + self.hung
            == 0
    }
}

/// One row's identity in a run: board, phase, cycle, attempt (and step index and try for a step row).
type CycleKey = (String, String, u64, u32);
type StepKey = records::TryKey;

fn cycle_key(r: &CycleRow) -> CycleKey {
    (r.board.clone(), r.phase.clone(), r.cycle, r.attempt)
}

/// An uninterrupted run of one scenario: its rows by key (wall-clock column blanked) and its wall time.
struct Reference {
    cycles: HashMap<CycleKey, CycleRow>,
    steps: HashMap<StepKey, StepRow>,
    wall: Duration,
}

fn blank_cycle(mut r: CycleRow) -> CycleRow {
    r.started_utc.clear();
    r
}

fn blank_step(mut s: StepRow) -> StepRow {
    s.started_utc.clear();
    s
}

/// Runs the campaign: `kills` kills in chains of one to four on a folder, `seed` choosing scenarios, triggers
/// and delays. `work` must be an empty scratch folder; `hil` is the binary.
pub fn campaign(kills: usize, seed: u64, work: &Path, hil: &Path, fixtures: &Path) -> Tally {
    let mut rng = fastrand::Rng::with_seed(seed);
    let references: HashMap<&str, Reference> = SCENARIOS
        .iter()
        .map(|&s| (s, reference(hil, &fixtures.join(format!("{s}.toml")), work)))
        .collect();
    let mut tally = Tally::default();
    while tally.kills < kills {
        let scenario = SCENARIOS[tally.chains % SCENARIOS.len()];
        let chain_len = rng.usize(1..=4).min(kills - tally.kills);
        let reports = work.join(format!("chain-{}-{scenario}", tally.chains));
        let file = fixtures.join(format!("{scenario}.toml"));
        let r = &references[scenario];
        let done = chain(&mut tally, &mut rng, hil, &file, &reports, r, chain_len);
        if done > 0 {
            *tally.by_scenario.entry(scenario).or_default() += done;
        }
        tally.longest_chain = tally.longest_chain.max(done);
        tally.chains += 1;
    }
    tally
}

fn reference(hil: &Path, scenario: &Path, work: &Path) -> Reference {
    let reports = work.join(format!(
        "reference-{}",
        scenario.file_stem().unwrap().to_string_lossy()
    ));
    let started = Instant::now();
    let out = soak_command(hil, scenario, &reports).output().unwrap();
    let wall = started.elapsed();
    assert!(
        out.status.success(),
        "the uninterrupted run of {}: {}\n{}",
        scenario.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = visible_folders(&reports).pop().expect("a run folder");
    Reference {
        cycles: read_all::<CycleRow>(&dir.join(CYCLES_CSV))
            .unwrap()
            .into_iter()
            .map(|r| (cycle_key(&r), blank_cycle(r)))
            .collect(),
        steps: read_all::<StepRow>(&dir.join(STEPS_CSV))
            .unwrap()
            .into_iter()
            .map(|s| (s.try_key(), blank_step(s)))
            .collect(),
        wall,
    }
}

fn soak_command(hil: &Path, scenario: &Path, reports: &Path) -> Command {
    let mut cmd = Command::new(hil);
    cmd.arg("soak")
        .arg(scenario)
        .arg("--reports")
        .arg(reports)
        .arg("-q")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

fn resume_command(hil: &Path, dir: &Path) -> Command {
    let mut cmd = Command::new(hil);
    cmd.arg("soak")
        .arg("--resume")
        .arg(dir)
        .arg("-q")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// The run folders in `reports` that a user sees (not the hidden staging folders).
fn visible_folders(reports: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(reports) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| !records::is_staging(p))
        .collect();
    dirs.sort();
    dirs
}

fn staging_exists(reports: &Path) -> bool {
    std::fs::read_dir(reports).is_ok_and(|entries| {
        entries
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().starts_with(STAGING_PREFIX))
    })
}

fn rows_in(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join(CYCLES_CSV))
        .map(|t| t.lines().count().saturating_sub(1))
        .unwrap_or(0)
}

/// When to kill a process.
#[derive(Debug, Clone, Copy)]
enum Trigger {
    /// As soon as anything appears in the reports folder (the creation window).
    FolderAppears,
    /// As soon as cycles.csv holds more than this many rows.
    Rows(usize),
    /// After this long.
    After(Duration),
}

/// A delay between 50 µs and `wall`, log-uniform, so that early moments (process start, folder creation,
/// reading records back) are hit as often as late ones.
fn delay(rng: &mut fastrand::Rng, wall: Duration) -> Duration {
    let (lo, hi) = (50e-6f64.ln(), wall.as_secs_f64().max(1e-3).ln());
    Duration::from_secs_f64((lo + rng.f64() * (hi - lo)).exp())
}

/// Longer than any run of the campaign takes (each is under a second); a run still going after it hangs.
const HANG: Duration = Duration::from_secs(60);

/// How a wait for a kill point ended.
enum Killed {
    /// Killed at its trigger.
    AtTrigger,
    /// It ended by itself before the trigger.
    Ended,
    /// Neither ended nor reached the trigger within [`HANG`]: killed, and a problem.
    Hung,
}

/// Waits for `trigger`, then SIGKILLs `child`.
fn kill_at(child: &mut Child, trigger: Trigger, reports: &Path, dir: Option<&Path>) -> Killed {
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return Killed::Ended;
        }
        let now = match trigger {
            Trigger::FolderAppears => {
                std::fs::read_dir(reports).is_ok_and(|mut d| d.next().is_some())
            }
            Trigger::Rows(n) => {
                let folder = dir
                    .map(Path::to_path_buf)
                    .or_else(|| visible_folders(reports).pop());
                folder.is_some_and(|d| rows_in(&d) > n)
            }
            Trigger::After(d) => started.elapsed() >= d,
        };
        if started.elapsed() > HANG {
            let _ = child.kill();
            child.wait().unwrap();
            return Killed::Hung;
        }
        if now {
            break;
        }
        if let Trigger::After(d) = trigger {
            std::thread::sleep((d - started.elapsed().min(d)).min(Duration::from_millis(1)));
        }
    }
    let _ = child.kill(); // SIGKILL
    child.wait().unwrap();
    Killed::AtTrigger
}

/// One folder killed `len` times, then resumed (or started, if no run ever began) to the end and checked.
/// Returns the kills made.
fn chain(
    tally: &mut Tally,
    rng: &mut fastrand::Rng,
    hil: &Path,
    scenario: &Path,
    reports: &Path,
    r: &Reference,
    len: usize,
) -> usize {
    let name = scenario.file_stem().unwrap().to_string_lossy().into_owned();
    let mut dir: Option<PathBuf> = None;
    let mut made = 0;
    let mut attempts = 0;
    while made < len && attempts < 4 * len {
        attempts += 1;
        let rows_before = dir.as_deref().map_or(0, rows_in);
        let total = r.cycles.len();
        let trigger = match (dir.is_some(), rng.u8(0..3)) {
            (false, 0) => Trigger::FolderAppears,
            (_, 1) => {
                Trigger::Rows(rows_before + rng.usize(0..total.saturating_sub(rows_before).max(1)))
            }
            _ => Trigger::After(delay(rng, r.wall)),
        };
        let mut child = match &dir {
            None => soak_command(hil, scenario, reports).spawn().unwrap(),
            Some(d) => resume_command(hil, d).spawn().unwrap(),
        };
        let killed = kill_at(&mut child, trigger, reports, dir.as_deref());
        if let Killed::Hung = killed {
            tally.hung += 1;
            tally.problems.push(format!(
                "{name}: {} ran for {} s without ending or reaching its kill point",
                dir.as_deref()
                    .map_or("a new run".into(), |d| format!("resuming {}", d.display())),
                HANG.as_secs()
            ));
            return made;
        }
        if let Killed::Ended = killed {
            // Ended on its own before the trigger: a finished run, not a kill. Start the chain's next kill
            // on a fresh folder.
            tally.missed += 1;
            if let Some(d) = check_ended(tally, &name, child, dir.as_deref(), reports) {
                check_whole(tally, &name, &d, r);
            }
            dir = None;
            let _ = std::fs::remove_dir_all(reports);
            continue;
        }
        made += 1;
        tally.kills += 1;
        let window = match &dir {
            Some(d) if rows_in(d) > rows_before => Window::MidResume,
            Some(_) => Window::Resuming,
            None => match visible_folders(reports).pop() {
                None if staging_exists(reports) => Window::CreatingTheFolder,
                None => Window::BeforeTheFolder,
                Some(d) if !d.join(records::MANIFEST_JSON).exists() => {
                    // The claimed name, not yet filled: it must be empty and recognised as never started. A
                    // half-made folder under the run's name is what atomic creation rules out.
                    if std::fs::read_dir(&d).unwrap().next().is_some() {
                        tally.unresumable += 1;
                        tally.problems.push(format!(
                            "{name}: {} is a half-made run folder without a manifest",
                            d.display()
                        ));
                    } else {
                        expect_never_started(tally, hil, &d, &name);
                    }
                    std::fs::remove_dir_all(&d).unwrap();
                    Window::CreatingTheFolder
                }
                Some(d) => {
                    let w = if rows_in(&d) == 0 {
                        Window::BeforeTheFirstCycle
                    } else {
                        Window::MidRun
                    };
                    dir = Some(d);
                    w
                }
            },
        };
        *tally.windows.entry(window).or_default() += 1;
        if window == Window::CreatingTheFolder {
            for staging in std::fs::read_dir(reports).unwrap().filter_map(Result::ok) {
                if records::is_staging(&staging.path()) {
                    expect_never_started(tally, hil, &staging.path(), &name);
                }
            }
        }
        if let Some(d) = &dir {
            check_prefix(tally, &name, d, r);
        }
    }
    // To the end: a resume of the killed folder, or a new run if none ever started.
    let child = match &dir {
        None => soak_command(hil, scenario, reports).spawn().unwrap(),
        Some(d) => resume_command(hil, d).spawn().unwrap(),
    };
    if let Some(d) = check_ended(tally, &name, child, dir.as_deref(), reports) {
        check_whole(tally, &name, &d, r);
    }
    made
}

/// A process that ran to its end: it must have exited 0 (every scenario passes its thresholds). Returns its
/// run folder.
fn check_ended(
    tally: &mut Tally,
    name: &str,
    mut child: Child,
    dir: Option<&Path>,
    reports: &Path,
) -> Option<PathBuf> {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > HANG {
            let _ = child.kill();
            child.wait().unwrap();
            tally.hung += 1;
            tally.problems.push(format!(
                "{name}: {} did not end within {} s",
                dir.map_or("a new run".into(), |d| format!("resuming {}", d.display())),
                HANG.as_secs()
            ));
            return None;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let out = child.wait_with_output().unwrap();
    if !out.status.success() {
        tally.unresumable += 1;
        tally.problems.push(format!(
            "{name}: {} exited {}: {}",
            dir.map_or("a new run".into(), |d| format!("resuming {}", d.display())),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
        return None;
    }
    dir.map(Path::to_path_buf)
        .or_else(|| visible_folders(reports).pop())
}

/// A folder left by a kill in the creation window: `hil soak --resume` must refuse it as never started.
fn expect_never_started(tally: &mut Tally, hil: &Path, folder: &Path, name: &str) {
    let out = resume_command(hil, folder).output().unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    if out.status.code() != Some(2) || !text.contains("never started") {
        tally.unresumable += 1;
        tally.problems.push(format!(
            "{name}: {} neither resumed nor was named as never started ({}): {}",
            folder.display(),
            out.status,
            text.trim()
        ));
    }
}

/// After a kill: the records parse, and every row in them is the uninterrupted run's row, once.
fn check_prefix(tally: &mut Tally, name: &str, dir: &Path, r: &Reference) {
    let Some((cycles, steps)) = parse(tally, name, dir) else {
        return;
    };
    compare(tally, name, dir, &cycles, &steps, r);
}

/// At the end: as after a kill, and every row of the uninterrupted run is there.
fn check_whole(tally: &mut Tally, name: &str, dir: &Path, r: &Reference) {
    let Some((cycles, steps)) = parse(tally, name, dir) else {
        return;
    };
    compare(tally, name, dir, &cycles, &steps, r);
    let have: std::collections::HashSet<CycleKey> = cycles.iter().map(cycle_key).collect();
    let missing = r.cycles.keys().filter(|k| !have.contains(*k)).count();
    let have_steps: std::collections::HashSet<StepKey> =
        steps.iter().map(StepRow::try_key).collect();
    let missing_steps = r.steps.keys().filter(|k| !have_steps.contains(*k)).count();
    if missing + missing_steps > 0 {
        tally.lost += missing + missing_steps;
        tally.problems.push(format!(
            "{name}: {} lacks {missing} cycle rows and {missing_steps} step rows of the uninterrupted run",
            dir.display()
        ));
    }
}

fn parse(tally: &mut Tally, name: &str, dir: &Path) -> Option<(Vec<CycleRow>, Vec<StepRow>)> {
    let parsed = (|| {
        Manifest::read(dir).map_err(|e| e.to_string())?;
        let cycles = read_all::<CycleRow>(&dir.join(CYCLES_CSV)).map_err(|e| e.to_string())?;
        let steps = read_all::<StepRow>(&dir.join(STEPS_CSV)).map_err(|e| e.to_string())?;
        Ok::<_, String>((cycles, steps))
    })();
    match parsed {
        Ok(rows) => Some(rows),
        Err(e) => {
            tally.unparsable += 1;
            tally.problems.push(format!("{name}: {e}"));
            None
        }
    }
}

fn compare(
    tally: &mut Tally,
    name: &str,
    dir: &Path,
    cycles: &[CycleRow],
    steps: &[StepRow],
    r: &Reference,
) {
    let mut seen = std::collections::HashSet::new();
    for row in cycles {
        let key = cycle_key(row);
        if !seen.insert(key.clone()) {
            tally.duplicated += 1;
            tally.problems.push(format!(
                "{name}: {} holds cycle {key:?} twice",
                dir.display()
            ));
        } else if r.cycles.get(&key) != Some(&blank_cycle(row.clone())) {
            tally.differing += 1;
            tally.problems.push(format!(
                "{name}: {} cycle {key:?} differs from the uninterrupted run's",
                dir.display()
            ));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for step in steps {
        let key = step.try_key();
        if !seen.insert(key.clone()) {
            tally.duplicated += 1;
            tally.problems.push(format!(
                "{name}: {} holds step {key:?} twice",
                dir.display()
            ));
        } else if r.steps.get(&key) != Some(&blank_step(step.clone())) {
            tally.differing += 1;
            tally.problems.push(format!(
                "{name}: {} step {key:?} differs from the uninterrupted run's",
                dir.display()
            ));
        }
    }
}

/// The campaign's table, for the test's output and the bench.
pub fn render(t: &Tally) -> String {
    let mut out = format!(
        "{} kills in {} chains (longest {}), {} missed (the run had ended); by scenario: {}\n",
        t.kills,
        t.chains,
        t.longest_chain,
        t.missed,
        t.by_scenario
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (w, n) in &t.windows {
        out += &format!("  {n:>3} {}\n", w.describe());
    }
    out += &format!(
        "lost {}, duplicated {}, differing {}, unresumable {}, unparsable {}, hung {}\n",
        t.lost, t.duplicated, t.differing, t.unresumable, t.unparsable, t.hung
    );
    for p in &t.problems {
        out += &format!("  problem: {p}\n");
    }
    out
}
