//! The bar's line: what one redraw shows ([`Snapshot`]), laid out to fit
//! a terminal of a given width, dropping the least useful parts first, and
//! rendered with or without colour. Pure: no terminal, no clock.

use std::time::Duration;

use indicatif::ProgressState;

/// What one redraw shows: the counts and times of the run so far.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Snapshot {
    done: u64,
    /// `None` while a stream of inputs is still being read.
    total: Option<u64>,
    not_ok: u64,
    elapsed: Duration,
    per_sec: f64,
    eta: Duration,
}

impl Snapshot {
    pub(super) fn of(state: &ProgressState, not_ok: u64) -> Snapshot {
        let done = state.pos();
        Snapshot {
            done,
            total: state.len(),
            not_ok,
            elapsed: state.elapsed(),
            per_sec: state.per_sec(),
            eta: state.eta(),
        }
    }
}

/// The parts of the bar's line that a narrow terminal can do without, in
/// the order they are dropped. Elapsed time and percentage always stay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// The word "items" after the count.
    ItemsWord,
    /// Items per second.
    Rate,
    /// The estimated time left.
    Eta,
    /// The bar itself (the percentage says as much).
    Bar,
    /// `done/total`.
    Count,
    /// How many items were not ok.
    NotOk,
}

const DROP_ORDER: [Part; 6] = [
    Part::ItemsWord,
    Part::Rate,
    Part::Eta,
    Part::Bar,
    Part::Count,
    Part::NotOk,
];

/// The narrowest bar worth drawing, and the widest.
const MIN_BAR: usize = 10;
const MAX_BAR: usize = 60;

/// One laid-out line: `0:12 ████░░░░ 45% 450/1000 items 3 not ok 12.3/s ETA 0:20`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Line {
    elapsed: String,
    /// Cells of the bar and how many are filled.
    bar: Option<(usize, usize)>,
    percent: String,
    count: Option<String>,
    not_ok: Option<String>,
    rate: Option<String>,
    eta: Option<String>,
    /// The terminal's width, which the line never passes.
    width: usize,
}

/// The line for a terminal `width` columns wide (0: unknown, taken as 80).
pub(super) fn layout(width: usize, s: &Snapshot) -> Line {
    let width = if width == 0 { 80 } else { width };
    let Some(total) = s.total.map(|t| t.max(s.done)) else {
        return unknown_total(width, s);
    };
    let percent = (u128::from(s.done) * 100)
        .checked_div(u128::from(total))
        .unwrap_or(100);
    let mut line = Line {
        elapsed: clock(s.elapsed),
        bar: Some((MIN_BAR, 0)),
        percent: format!("{percent}%"),
        count: Some(format!("{}/{total} items", s.done)),
        not_ok: (s.not_ok > 0).then(|| format!("{} not ok", s.not_ok)),
        rate: Some(if s.per_sec.is_finite() && s.per_sec < 10.0 {
            format!("{:.1}/s", s.per_sec.max(0.0))
        } else if s.per_sec.is_finite() {
            format!("{:.0}/s", s.per_sec)
        } else {
            "-/s".into()
        }),
        eta: Some(
            if s.done < total && (s.done == 0 || s.per_sec.is_nan() || s.per_sec <= 0.0) {
                "ETA ?".into()
            } else {
                format!("ETA {}", clock(s.eta))
            },
        ),
        width,
    }
    .fit();
    let spare = width.saturating_sub(line.text_width());
    if let Some((cells, filled)) = line.bar.as_mut() {
        *cells = (MIN_BAR + spare).min(MAX_BAR);
        *filled = (u128::from(s.done) * *cells as u128)
            .checked_div(u128::from(total))
            .map_or(*cells, |f| f as usize);
    }
    line
}

/// The line while the count is not known (a stream of inputs): elapsed
/// time, items done, not ok and rate; no bar, percentage or ETA.
fn unknown_total(width: usize, s: &Snapshot) -> Line {
    Line {
        elapsed: clock(s.elapsed),
        bar: None,
        percent: String::new(),
        count: Some(format!("{} items", s.done)),
        not_ok: (s.not_ok > 0).then(|| format!("{} not ok", s.not_ok)),
        rate: s
            .per_sec
            .is_finite()
            .then(|| format!("{:.0}/s", s.per_sec.max(0.0))),
        eta: None,
        width,
    }
    .fit()
}

impl Line {
    /// The line with parts dropped, least useful first, until it fits its
    /// width.
    fn fit(mut self) -> Line {
        for part in DROP_ORDER {
            if self.text_width() <= self.width {
                break;
            }
            self.drop_part(part);
        }
        self
    }

    fn drop_part(&mut self, part: Part) {
        match part {
            Part::ItemsWord => {
                if let Some(count) = &mut self.count {
                    count.truncate(count.trim_end_matches(" items").len());
                }
            }
            Part::Rate => self.rate = None,
            Part::Eta => self.eta = None,
            Part::Bar => self.bar = None,
            Part::Count => self.count = None,
            Part::NotOk => self.not_ok = None,
        }
    }

    /// The texts in order, the bar as `None`.
    fn parts(&self) -> Vec<Option<&str>> {
        let mut parts = vec![Some(self.elapsed.as_str())];
        if self.bar.is_some() {
            parts.push(None);
        }
        if !self.percent.is_empty() {
            parts.push(Some(&self.percent));
        }
        for text in [&self.count, &self.not_ok, &self.rate, &self.eta]
            .into_iter()
            .flatten()
        {
            parts.push(Some(text));
        }
        parts
    }

    /// Columns taken, with the bar at its current size and one space
    /// between parts.
    fn text_width(&self) -> usize {
        let parts = self.parts();
        let texts: usize = parts
            .iter()
            .map(|p| p.map_or(self.bar.map_or(0, |b| b.0), |t| t.chars().count()))
            .sum();
        texts + parts.len() - 1
    }

    /// The line as written: the bar filled in green and the count of items
    /// not ok in red when `colour`, never wider than the terminal.
    pub(super) fn render(&self, colour: bool) -> String {
        let paint = |code: &str, text: &str| match colour {
            true => format!("\x1b[{code}m{text}\x1b[0m"),
            false => text.to_string(),
        };
        if self.text_width() > self.width {
            // Too narrow even for elapsed time and percentage: cut.
            let plain = format!("{} {}", self.elapsed, self.percent);
            return plain.chars().take(self.width).collect();
        }
        let mut out = Vec::new();
        for part in self.parts() {
            out.push(match part {
                Some(text) if Some(text) == self.not_ok.as_deref() => paint("31", text),
                Some(text) => text.to_string(),
                None => {
                    let (cells, filled) = self.bar.unwrap_or_default();
                    let done = "\u{2588}".repeat(filled);
                    let left = "\u{2591}".repeat(cells - filled.min(cells));
                    let paint = |code, text: String| match text.is_empty() {
                        true => text,
                        false => paint(code, &text),
                    };
                    paint("32", done) + &paint("2", left)
                }
            });
        }
        out.join(" ")
    }
}

/// `m:ss`, or `h:mm:ss` from an hour on.
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_of_unknown_length_shows_counts_and_no_percentage() {
        let s = Snapshot {
            total: None,
            ..at(450, 0, 3)
        };
        let text = layout(80, &s).render(false);
        assert_eq!(text, "1:15 450 items 3 not ok 12/s");
        for width in 1..80 {
            assert!(
                layout(width, &s).render(false).chars().count() <= width.max(10),
                "{width}"
            );
        }
    }

    fn at(done: u64, total: u64, not_ok: u64) -> Snapshot {
        Snapshot {
            done,
            total: Some(total),
            not_ok,
            elapsed: Duration::from_secs(75),
            per_sec: 12.34,
            eta: Duration::from_secs(3725),
        }
    }

    fn shown(width: usize, s: &Snapshot) -> String {
        layout(width, s).render(false)
    }

    #[test]
    fn a_wide_terminal_shows_everything_and_the_bar_fills_the_rest() {
        let line = shown(100, &at(450, 1000, 3));
        assert_eq!(line.chars().count(), 100, "{line:?}");
        assert!(line.starts_with("1:15 \u{2588}"), "{line:?}");
        assert!(
            line.ends_with(" 45% 450/1000 items 3 not ok 12/s ETA 1:02:05"),
            "{line:?}"
        );
    }

    #[test]
    fn the_bar_stops_growing_at_its_widest() {
        let line = layout(300, &at(1, 2, 0));
        assert_eq!(line.bar, Some((MAX_BAR, MAX_BAR / 2)));
        assert!(line.render(false).chars().count() < 300);
    }

    #[test]
    fn no_width_passes_the_terminal_and_parts_go_least_useful_first() {
        let s = at(450, 1000, 3);
        let mut last = layout(200, &s);
        for width in (1..200).rev() {
            let line = layout(width, &s);
            let text = line.render(false);
            assert!(text.chars().count() <= width, "{width}: {text:?}");
            if width >= 10 {
                assert!(
                    text.contains("1:15") && text.contains("45%"),
                    "{width}: {text:?}"
                );
            }
            // A part once dropped stays dropped in narrower terminals.
            for (now, before) in [
                (line.rate.is_some(), last.rate.is_some()),
                (line.eta.is_some(), last.eta.is_some()),
                (line.bar.is_some(), last.bar.is_some()),
                (line.count.is_some(), last.count.is_some()),
                (line.not_ok.is_some(), last.not_ok.is_some()),
            ] {
                assert!(!now || before, "{width}: {text:?}");
            }
            last = line;
        }
    }

    #[test]
    fn what_each_width_keeps() {
        let s = at(450, 1000, 3);
        // 64 columns, the terminal: everything, with a short bar.
        let line = layout(64, &s);
        assert!(line.rate.is_some() && line.eta.is_some(), "{line:?}");
        assert_eq!(line.count.as_deref(), Some("450/1000 items"));
        assert_eq!(line.bar.map(|b| b.0), Some(14));
        // 50: the word "items", then the rate go before the bar shrinks
        // below its narrowest.
        let line = layout(50, &s);
        assert_eq!(line.count.as_deref(), Some("450/1000"));
        assert!(line.rate.is_none() && line.eta.is_some() && line.bar.is_some());
        // 40: the ETA too.
        let line = layout(40, &s);
        assert!(line.eta.is_none() && line.bar.is_some(), "{line:?}");
        // 30: no room for a bar; counts stay.
        assert_eq!(shown(30, &s), "1:15 45% 450/1000 3 not ok");
        assert_eq!(shown(20, &s), "1:15 45% 3 not ok");
        assert_eq!(shown(12, &s), "1:15 45%");
        assert_eq!(shown(6, &s), "1:15 4");
    }

    #[test]
    fn the_start_and_the_end_of_a_run() {
        let mut s = at(0, 4, 0);
        s.per_sec = 0.0;
        assert!(shown(80, &s).ends_with(" 0% 0/4 items 0.0/s ETA ?"));
        assert!(!shown(80, &s).contains('\u{2588}'));
        let s = at(4, 4, 0);
        let line = shown(80, &s);
        assert!(line.contains(" 100% 4/4 items") && !line.contains('\u{2591}'));
        // No items at all is done.
        assert!(shown(80, &at(0, 0, 0)).contains(" 100% 0/0 items"));
    }

    #[test]
    fn colour_does_not_change_what_is_shown() {
        let line = layout(70, &at(3, 7, 1));
        let plain = line.render(false);
        let painted = line.render(true);
        assert_ne!(plain, painted);
        let mut stripped = String::new();
        let mut chars = painted.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                chars.by_ref().find(|&c| c == 'm');
            } else {
                stripped.push(c);
            }
        }
        assert_eq!(stripped, plain);
    }

    #[test]
    fn clocks() {
        assert_eq!(clock(Duration::from_millis(999)), "0:00");
        assert_eq!(clock(Duration::from_secs(61)), "1:01");
        assert_eq!(clock(Duration::from_secs(3600 * 25 + 61)), "25:01:01");
    }
}
