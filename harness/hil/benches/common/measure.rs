//! Shared by the benches: each measurement runs in a fresh child process (the bench binary re-invoked with
//! arguments), so peak RSS is per measurement; the child prints one `measurement` line the parent parses.

use std::ffi::OsStr;
use std::process::Command;

/// One measurement: how many items (cycles, rows), a second count (passed cycles, failures), wall time and
/// the child's peak resident set size.
#[derive(Debug, Clone, Copy)]
pub struct Measurement {
    pub count: u64,
    pub other: u64,
    pub wall_s: f64,
    pub peak_rss_kib: u64,
}

impl Measurement {
    /// The line a child prints.
    pub fn to_line(self) -> String {
        let Measurement {
            count,
            other,
            wall_s,
            peak_rss_kib,
        } = self;
        format!("measurement {count} {other} {wall_s} {peak_rss_kib}")
    }

    pub fn parse(line: &str) -> Option<Self> {
        let mut f = line.strip_prefix("measurement ")?.split(' ');
        Some(Self {
            count: f.next()?.parse().ok()?,
            other: f.next()?.parse().ok()?,
            wall_s: f.next()?.parse().ok()?,
            peak_rss_kib: f.next()?.parse().ok()?,
        })
    }

    /// Items per second of wall time.
    pub fn per_s(&self) -> f64 {
        self.count as f64 / self.wall_s
    }

    /// Peak RSS in MiB.
    pub fn peak_mib(&self) -> f64 {
        self.peak_rss_kib as f64 / 1024.0
    }
}

/// This process's peak resident set size (VmHWM in /proc/self/status), KiB. Linux only.
pub fn peak_rss_kib() -> u64 {
    let status =
        std::fs::read_to_string("/proc/self/status").expect("/proc/self/status (Linux only)");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM")?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}

/// Run this bench binary again with `args` and read back the measurement it prints.
pub fn in_child<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(args: I) -> Measurement {
    let exe = std::env::current_exe().expect("current exe");
    let out = Command::new(exe).args(args).output().expect("spawn child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .find_map(Measurement::parse)
        .unwrap_or_else(|| {
            panic!(
                "child failed: {}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

/// Several runs of one size: the one with the median wall time, carrying the highest peak RSS of them all.
pub fn median(mut runs: Vec<Measurement>) -> Measurement {
    runs.sort_by(|a, b| a.wall_s.total_cmp(&b.wall_s));
    let peak_rss_kib = runs.iter().map(|m| m.peak_rss_kib).max().unwrap_or(0);
    Measurement {
        peak_rss_kib,
        ..runs[runs.len() / 2]
    }
}
