//! Line charts as inline SVG, rendered on the server: no script, no inline style (the CSP
//! forbids both), colours from classes in style.css. Axes with tick labels in the series'
//! unit, a UTC time axis, a `<title>` and an `aria-label`, and a "no data yet" state.

use maud::{html, Markup};

/// How values are labelled on the y axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    /// 0–100 %, the axis always spans 0–100.
    Percent,
    /// Bytes, in binary multiples (KiB, MiB, GiB, TiB).
    Bytes,
    /// Bytes per second, in binary multiples.
    BytesPerSec,
}

/// One line: a legend label, a CSS class (`s1`, `s2`: its colour) and its points (ms, value).
pub(crate) struct Line<'a> {
    pub(crate) label: &'a str,
    pub(crate) class: &'a str,
    pub(crate) points: &'a [(i64, f64)],
}

/// A chart over `[from_ms, to_ms]`.
pub(crate) struct Chart<'a> {
    pub(crate) id: &'a str,
    pub(crate) title: &'a str,
    pub(crate) unit: Unit,
    pub(crate) from_ms: i64,
    pub(crate) to_ms: i64,
    pub(crate) lines: Vec<Line<'a>>,
}

const W: f64 = 640.0;
const H: f64 = 220.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 36.0;

const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];

/// A value in `unit`, with the binary prefix that `scale` (a power of 1024) chose.
pub(crate) fn format_value(v: f64, unit: Unit, scale: usize) -> String {
    match unit {
        Unit::Percent => format!("{} %", trim(v)),
        Unit::Bytes | Unit::BytesPerSec => {
            let suffix = if unit == Unit::BytesPerSec { "/s" } else { "" };
            let shown = v / 1024f64.powi(scale as i32);
            format!("{} {}{suffix}", trim(shown), UNITS[scale])
        }
    }
}

/// A byte amount with its own best prefix ("1.5 GiB").
pub(crate) fn format_bytes(v: f64, unit: Unit) -> String {
    format_value(v, unit, byte_scale(v))
}

fn byte_scale(max: f64) -> usize {
    let mut s = 0;
    while s + 1 < UNITS.len() && max >= 1024f64.powi(s as i32 + 1) {
        s += 1;
    }
    s
}

/// At most one decimal, none when whole.
fn trim(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

/// Y ticks from 0 to a round top ≥ `max`: 1, 2 or 5 × 10ⁿ steps in the displayed unit, and
/// the binary scale of the labels.
pub(crate) fn y_ticks(max: f64, unit: Unit) -> (Vec<f64>, usize) {
    if unit == Unit::Percent {
        return ((0..=4).map(|i| i as f64 * 25.0).collect(), 0);
    }
    let scale = byte_scale(max);
    let div = 1024f64.powi(scale as i32);
    let shown = (max / div).max(1e-9);
    let raw = shown / 4.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let n = (shown / step).ceil().max(1.0) as usize;
    ((0..=n).map(|i| i as f64 * step * div).collect(), scale)
}

/// Time ticks: a round step giving 4–8 ticks over the window (5 min … 1 day), with labels
/// `HH:MM` (or `MM-DD` for a step of a day).
pub(crate) fn x_ticks(from_ms: i64, to_ms: i64) -> Vec<(i64, String)> {
    const MIN: i64 = 60_000;
    let span = (to_ms - from_ms).max(1);
    let step = [5, 10, 15, 30, 60, 120, 180, 360, 720, 1440]
        .iter()
        .map(|m| m * MIN)
        .find(|s| span / s <= 8)
        .unwrap_or(1440 * MIN);
    let first = (from_ms + step - 1).div_euclid(step) * step;
    (0..)
        .map(|i| first + i * step)
        .take_while(|t| *t <= to_ms)
        .map(|t| {
            let (_, mo, d, h, mi, _) = utc(t);
            let label = if step >= 1440 * MIN {
                format!("{mo:02}-{d:02}")
            } else {
                format!("{h:02}:{mi:02}")
            };
            (t, label)
        })
        .collect()
}

/// (year, month, day, hour, minute, second) in UTC of a time in ms since the epoch.
pub(crate) fn utc(ms: i64) -> (i64, u32, u32, u32, u32, u32) {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        m,
        d,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        (rem % 60) as u32,
    )
}

/// `YYYY-MM-DD HH:MM:SS UTC`.
pub(crate) fn utc_text(ms: i64) -> String {
    let (y, mo, d, h, mi, s) = utc(ms);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02} UTC")
}

impl Chart<'_> {
    fn x(&self, t: i64) -> f64 {
        let span = (self.to_ms - self.from_ms).max(1) as f64;
        LEFT + (t - self.from_ms) as f64 / span * (W - LEFT - RIGHT)
    }

    fn y(top: f64, v: f64) -> f64 {
        let plot = H - TOP - BOTTOM;
        H - BOTTOM - (v / top).clamp(0.0, 1.0) * plot
    }

    /// The `d` of a path through `points`; a gap longer than 5 × the median step (the agent
    /// was down) starts a new segment instead of drawing a line across it.
    fn path(&self, top: f64, points: &[(i64, f64)]) -> String {
        let mut steps: Vec<i64> = points.windows(2).map(|w| w[1].0 - w[0].0).collect();
        steps.sort_unstable();
        let gap = steps
            .get(steps.len() / 2)
            .map_or(i64::MAX, |m| m.saturating_mul(5));
        let mut d = String::new();
        let mut prev: Option<i64> = None;
        for &(t, v) in points {
            let cmd = match prev {
                Some(p) if t - p <= gap => 'L',
                _ => 'M',
            };
            d.push_str(&format!("{cmd}{:.1} {:.1} ", self.x(t), Chart::y(top, v)));
            prev = Some(t);
        }
        d.trim_end().to_string()
    }

    /// The chart as a `<figure>` with an inline `<svg>`.
    pub(crate) fn render(&self) -> Markup {
        let max = self
            .lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.1))
            .filter(|v| v.is_finite())
            .fold(0.0_f64, f64::max);
        let (ticks, scale) = y_ticks(max, self.unit);
        let top = ticks.last().copied().filter(|t| *t > 0.0).unwrap_or(1.0);
        let empty = self.lines.iter().all(|l| l.points.is_empty());
        let latest: Vec<String> = self
            .lines
            .iter()
            .filter_map(|l| {
                l.points.last().map(|p| {
                    format!(
                        "{} {}",
                        l.label,
                        format_value(p.1, self.unit, byte_scale(p.1))
                    )
                })
            })
            .collect();
        let summary = if empty {
            format!("{}: no data yet", self.title)
        } else {
            format!("{}, latest: {}", self.title, latest.join(", "))
        };
        let title_id = format!("{}-title", self.id);
        html! {
            figure.chart id=(self.id) {
                figcaption {
                    strong { (self.title) }
                    @for l in &self.lines {
                        @if self.lines.len() > 1 { " " span class={"legend " (l.class)} { (l.label) } }
                    }
                }
                svg viewBox={"0 0 " (W) " " (H)} role="img" aria-labelledby=(title_id) xmlns="http://www.w3.org/2000/svg" {
                    title id=(title_id) { (summary) }
                    @for t in &ticks {
                        @let y = Chart::y(top, *t);
                        line.grid x1=(LEFT) x2=(W - RIGHT) y1=(y) y2=(y) {}
                        text.tick x=(LEFT - 6.0) y=(y + 4.0) text-anchor="end" { (format_value(*t, self.unit, scale)) }
                    }
                    @for (t, label) in x_ticks(self.from_ms, self.to_ms) {
                        @let x = self.x(t);
                        line.grid x1=(x) x2=(x) y1=(TOP) y2=(H - BOTTOM) {}
                        text.tick x=(x) y=(H - BOTTOM + 14.0) text-anchor="middle" { (label) }
                    }
                    line.axis x1=(LEFT) x2=(LEFT) y1=(TOP) y2=(H - BOTTOM) {}
                    line.axis x1=(LEFT) x2=(W - RIGHT) y1=(H - BOTTOM) y2=(H - BOTTOM) {}
                    text.axis-label x=((LEFT + W - RIGHT) / 2.0) y=(H - 4.0) text-anchor="middle" { "Time (UTC)" }
                    @if empty {
                        text.no-data x=((LEFT + W - RIGHT) / 2.0) y=((TOP + H - BOTTOM) / 2.0) text-anchor="middle" { "No data yet" }
                    }
                    @for l in &self.lines {
                        @if l.points.len() > 1 {
                            path class={"line " (l.class)} d=(self.path(top, l.points)) data-points=(l.points.len()) {}
                        }
                        // Few points: dots too, so one point is visible.
                        @if l.points.len() <= 60 {
                            @for p in l.points {
                                circle class={"dot " (l.class)} cx=(format!("{:.1}", self.x(p.0))) cy=(format!("{:.1}", Chart::y(top, p.1))) r="3" {}
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(points: &[(i64, f64)], unit: Unit) -> String {
        Chart {
            id: "c",
            title: "CPU",
            unit,
            from_ms: 0,
            to_ms: 3_600_000,
            lines: vec![Line {
                label: "cpu",
                class: "s1",
                points,
            }],
        }
        .render()
        .into_string()
    }

    #[test]
    fn byte_ticks_are_round_in_the_chosen_binary_unit() {
        let (t, s) = y_ticks(3.3 * 1024.0 * 1024.0 * 1024.0, Unit::Bytes);
        assert_eq!(s, 3);
        let labels: Vec<String> = t.iter().map(|v| format_value(*v, Unit::Bytes, s)).collect();
        assert_eq!(labels, ["0 GiB", "1 GiB", "2 GiB", "3 GiB", "4 GiB"]);
        let (t, s) = y_ticks(900.0, Unit::BytesPerSec);
        assert_eq!(
            format_value(*t.last().unwrap(), Unit::BytesPerSec, s),
            "1000 B/s"
        );
        assert_eq!(
            y_ticks(42.0, Unit::Percent).0,
            [0.0, 25.0, 50.0, 75.0, 100.0]
        );
        assert_eq!(format_bytes(1536.0, Unit::Bytes), "1.5 KiB");
    }

    #[test]
    fn values_scale_into_the_plot_area() {
        let s = chart(&[(0, 0.0), (3_600_000, 100.0)], Unit::Percent);
        // 0 % at the bottom-left corner, 100 % at the top-right one.
        assert!(
            s.contains(&format!(
                "d=\"M{LEFT:.1} {:.1} L{:.1} {TOP:.1}\"",
                H - BOTTOM,
                W - RIGHT
            )),
            "{s}"
        );
        assert!(
            s.contains("role=\"img\"")
                && s.contains("<title id=\"c-title\">CPU, latest: cpu 100 %</title>")
        );
    }

    #[test]
    fn time_ticks_are_round_utc_minutes() {
        let t = x_ticks(60_000, 3_600_000 + 60_000);
        assert_eq!(t[0], (600_000, "00:10".to_string()));
        assert_eq!(t.len(), 6);
        let week = x_ticks(0, 7 * 86_400_000);
        assert_eq!(week[1].1, "01-02");
        assert_eq!(utc_text(1_796_601_550_000), "2026-12-06 23:59:10 UTC");
        assert_eq!(utc_text(951_782_400_000), "2000-02-29 00:00:00 UTC");
    }

    #[test]
    fn an_empty_series_says_no_data_and_one_point_is_a_dot() {
        let s = chart(&[], Unit::Bytes);
        assert!(s.contains("No data yet") && !s.contains("<path") && !s.contains("<circle"));
        let s = chart(&[(1_800_000, 5.0)], Unit::Bytes);
        assert!(!s.contains("<path") && s.contains("<circle"));
        assert!(!s.contains("style="));
    }

    #[test]
    fn a_long_gap_starts_a_new_segment() {
        let pts = [
            (0, 1.0),
            (15_000, 1.0),
            (30_000, 1.0),
            (2_000_000, 1.0),
            (2_015_000, 1.0),
        ];
        let c = Chart {
            id: "c",
            title: "t",
            unit: Unit::Bytes,
            from_ms: 0,
            to_ms: 3_600_000,
            lines: vec![],
        };
        let d = c.path(1.0, &pts);
        assert_eq!(
            (d.matches('M').count(), d.matches('L').count()),
            (2, 3),
            "{d}"
        );
    }
}
