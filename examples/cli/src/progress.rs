//! Progress of a long-running command (an import of a million records takes tens of seconds):
//! a bar on standard error when it is a terminal, otherwise an info log line every
//! `IPOCKET_PROGRESS_SECONDS` (default 5 s; `0`: at every update, what the tests use).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

const DEFAULT_PERIOD: Duration = Duration::from_secs(5);

/// Counts records done; cheap to update (a comparison of instants per call).
pub(crate) struct Progress {
    what: &'static str,
    bar: Option<ProgressBar>,
    started: Instant,
    period: Duration,
    last_line: Instant,
}

/// The log-line period: `IPOCKET_PROGRESS_SECONDS`, a number of seconds.
fn period() -> Duration {
    std::env::var("IPOCKET_PROGRESS_SECONDS")
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map_or(DEFAULT_PERIOD, Duration::from_secs_f64)
}

impl Progress {
    /// `what` names the work in the bar and the log lines (`import`).
    pub(crate) fn start(what: &'static str) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner().with_prefix(what);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {prefix}: {human_pos} records {msg}, {elapsed}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        let now = Instant::now();
        Progress {
            what,
            bar,
            started: now,
            period: period(),
            last_line: now,
        }
    }

    /// `done` records so far (the count may go back to 0 when the work starts over).
    pub(crate) fn update(&mut self, done: u64) {
        let secs = self.started.elapsed().as_secs_f64();
        let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
        if let Some(bar) = &self.bar {
            // once per chunk of records: the formatting costs nothing per record
            bar.set_message(format!("({rate:.0}/s)"));
            bar.set_position(done);
            return;
        }
        if self.last_line.elapsed() < self.period {
            return;
        }
        self.last_line = Instant::now();
        tracing::info!(
            records = done,
            rate = rate.round() as u64,
            elapsed_s = (secs * 10.0).round() / 10.0,
            "{}: {done} records, {:.0}/s",
            self.what,
            rate
        );
    }

    /// Removes the bar (the command's result comes next).
    pub(crate) fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
