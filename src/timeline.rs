//! The run as a picture: `--timeline FILE.svg`.
//!
//! One lane per worker slot, labelled with the pid of its first process;
//! one bar per attempt of every item, from its start to its end, coloured
//! by outcome, with a `<title>` (the tooltip: input, outcome, attempt,
//! worker, pid and time); a dashed connector from each failed attempt to
//! its retry; a tick and the new pid where a worker was replaced (pid
//! labels that would touch are merged, and none passes the right edge); a
//! time axis in seconds.
//!
//! The frame (title, axes, lanes, legend) is drawn with plotters' SVG
//! backend; the bars, connectors and ticks are written here as SVG
//! elements, since plotters has no tooltips. This module only draws: it
//! gets plain spans and worker starts, and knows nothing about pools.

use std::io::Write;
use std::path::Path;

use plotters::prelude::*;

use mproc::ItemResult;
use mproc::{Error, ErrorKind, Result};

use crate::trace::{shortened, Span};

/// One attempt's bar.
#[derive(Debug, Clone)]
pub struct Bar {
    /// Lane (worker slot).
    pub lane: usize,
    /// Seconds from the pool's start.
    pub start: f64,
    /// Seconds from the pool's start.
    pub end: f64,
    /// `ok`, `failed`, `panicked`, `crashed`, `timed_out`.
    pub outcome: &'static str,
    /// The tooltip: input, outcome, attempt, worker, pid and time.
    pub title: String,
    /// The bar of the failed attempt this one retries.
    pub retry_of: Option<usize>,
}

/// A worker process starting in a lane.
#[derive(Debug, Clone)]
pub struct Start {
    /// Lane (worker slot).
    pub lane: usize,
    /// The new process's pid.
    pub pid: u32,
    /// Seconds from the pool's start.
    pub at: f64,
}

/// Everything the picture shows.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// The title above the picture.
    pub title: String,
    /// Number of lanes (pool processes).
    pub lanes: usize,
    /// One per attempt that ran.
    pub bars: Vec<Bar>,
    /// Every worker process start, the first ones included.
    pub starts: Vec<Start>,
    /// The host of each lane, when not this machine.
    pub hosts: Vec<Option<String>>,
}

/// The fill colour of each outcome (also the legend's).
pub const COLORS: [(&str, RGBColor); 5] = [
    ("ok", RGBColor(0x2E, 0x7D, 0x32)),
    ("failed", RGBColor(0xEF, 0x6C, 0x00)),
    ("panicked", RGBColor(0x6A, 0x1B, 0x9A)),
    ("crashed", RGBColor(0xC6, 0x28, 0x28)),
    ("timed_out", RGBColor(0x5D, 0x40, 0x37)),
];

/// The fill colour of lane backgrounds.
pub const LANE: RGBColor = RGBColor(0xEC, 0xEF, 0xF4);

/// The size of the pid labels, in pixels.
const LABEL_FONT: f64 = 11.0;

fn color(outcome: &str) -> RGBColor {
    COLORS
        .iter()
        .find(|(name, _)| *name == outcome)
        .map_or(RGBColor(0x9E, 0x9E, 0x9E), |(_, c)| *c)
}

fn hex(c: RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

/// `text` as SVG character data: markup escaped, control characters shown
/// as escapes (XML allows none of them), newlines kept.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split('\n').enumerate() {
        if line.0 > 0 {
            out.push('\n');
        }
        for c in crate::report::escaped(line.1).chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                c => out.push(c),
            }
        }
    }
    out
}

/// The tooltip of one attempt.
fn title_of(span: &Span, input: &str, serial: bool, host: Option<&str>) -> String {
    let outcome = match &span.error {
        Some(e) => format!("{}: {}", span.outcome, shortened(e, 200)),
        None => span.outcome.to_string(),
    };
    let place = match (serial, span.pid) {
        (true, Some(pid)) => format!("serial · pid {pid}"),
        (true, None) => "serial".to_string(),
        (false, Some(pid)) => format!("worker {} · pid {pid}", span.lane),
        (false, None) => format!("worker {}", span.lane),
    };
    let place = match host {
        Some(host) => format!("{place} · on {host}"),
        None => place,
    };
    format!(
        "item {}: {}\nattempt {} of {} · {outcome}\n{place}\n{:.3} s (from {:.3} s to {:.3} s)",
        span.index,
        shortened(input, 200),
        span.attempt,
        span.attempts,
        span.end - span.start,
        span.start,
        span.end
    )
}

/// A pid label placed in a lane: the pids it stands for, its text, and
/// its left edge and width in pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    /// The pids it names (the first, then those merged into it).
    pub pids: Vec<u32>,
    /// `pid 4242`, or `pid 4242 +2` when two more were merged into it.
    pub text: String,
    /// Left edge, pixels.
    pub x: f64,
    /// Width, pixels (estimated from the text).
    pub width: f64,
}

impl Label {
    fn new(pids: Vec<u32>, anchor: f64, left: f64, right: f64) -> Label {
        let text = match pids.len() {
            1 => format!("pid {}", pids[0]),
            n => format!("pid {} +{}", pids[0], n - 1),
        };
        // Sans-serif at 11 px: no glyph used here is wider than 0.62 em.
        let width = text.chars().count() as f64 * LABEL_FONT * 0.62;
        let x = anchor.min(right - width).max(left);
        Label {
            pids,
            text,
            x,
            width,
        }
    }
}

/// Places the labels of one lane's new pids `(x pixel, pid)`, sorted by x,
/// between `left` and `right`: each at its tick, moved left where it would
/// pass the right edge; one that would touch the label before it is
/// merged into it (`pid A +1`). The labels returned never overlap.
pub fn place_labels(ticks: &[(f64, u32)], left: f64, right: f64) -> Vec<Label> {
    const GAP: f64 = 4.0;
    let mut placed: Vec<(f64, Label)> = Vec::new();
    for &(anchor, pid) in ticks {
        placed.push((anchor, Label::new(vec![pid], anchor, left, right)));
        while placed.len() >= 2 {
            let (_, top) = &placed[placed.len() - 1];
            let (_, below) = &placed[placed.len() - 2];
            if top.x >= below.x + below.width + GAP {
                break;
            }
            let (_, top) = placed.pop().expect("two labels");
            let (anchor, below) = placed.pop().expect("two labels");
            let mut pids = below.pids;
            pids.extend(top.pids);
            placed.push((anchor, Label::new(pids, anchor, left, right)));
        }
    }
    placed.into_iter().map(|(_, l)| l).collect()
}

impl Timeline {
    /// Builds the picture's data from a run's results (every attempt of
    /// each), its worker starts `(lane, pid, seconds)`, and `input`, which
    /// gives item `i`'s input as text for the tooltips. `serial` names the
    /// one lane this process. `hosts` names each lane's host when not this
    /// machine, in its label and in each of its attempts' tooltips.
    pub fn from_run<T>(
        title: &str,
        lanes: usize,
        hosts: Vec<Option<String>>,
        results: &[ItemResult<T>],
        starts: &[(usize, u32, f64)],
        input: &dyn Fn(usize) -> String,
    ) -> Self {
        let serial = results.iter().all(|r| r.worker.is_none());
        let spans = Span::all(results);
        let mut bars: Vec<Bar> = Vec::with_capacity(spans.len());
        for (n, span) in spans.iter().enumerate() {
            // Span::all gives an item's attempts one after another.
            let retry_of =
                (n > 0 && spans[n - 1].retried && spans[n - 1].index == span.index).then(|| n - 1);
            bars.push(Bar {
                lane: span.lane,
                start: span.start,
                end: span.end,
                outcome: span.outcome,
                title: title_of(
                    span,
                    &input(span.index),
                    serial,
                    hosts.get(span.lane).and_then(Option::as_deref),
                ),
                retry_of,
            });
        }
        Timeline {
            title: title.to_string(),
            lanes,
            bars,
            starts: starts
                .iter()
                .map(|&(lane, pid, at)| Start { lane, pid, at })
                .collect(),
            hosts,
        }
    }

    /// Draws the picture as SVG into `path`, whole or not at all: the
    /// previous file stays until the new one is complete.
    pub fn write_svg(&self, path: &Path) -> Result<()> {
        let fail = |e: &dyn std::fmt::Display| {
            Error::new(
                ErrorKind::Io,
                format!("cannot draw --timeline {}: {e}", path.display()),
            )
        };
        let lanes = self.lanes.max(1);
        let height = 170 + 46 * lanes as u32;
        // The frame is drawn in memory and written here: plotters' own
        // file writer drops the error of its last flush (`--timeline
        // /dev/full` succeeded). The marks, a line each, go straight to
        // the file, so a long run's picture is not held in memory twice.
        let mut frame = String::new();
        let area = self.draw_frame(&mut frame, height, &fail)?;
        let at = frame
            .rfind("</svg>")
            .ok_or_else(|| fail(&"plotters wrote no </svg>"))?;
        let io = |e: std::io::Error| fail(&crate::errors::io_message(&e));
        crate::report::write_whole(path, |out| {
            out.write_all(&frame.as_bytes()[..at])?;
            self.marks(&area, out)?;
            out.write_all(&frame.as_bytes()[at..])
        })
        .map_err(io)
    }

    /// The time the picture spans, in seconds.
    fn end(&self) -> f64 {
        self.bars
            .iter()
            .map(|b| b.end)
            .chain(self.starts.iter().map(|s| s.at))
            .fold(0.0f64, f64::max)
            .max(0.001)
            * 1.02
    }

    /// Draws the frame with plotters (title, axes, lane labels, lanes,
    /// legend) and returns where its plot is, for the marks.
    fn draw_frame(
        &self,
        svg: &mut String,
        height: u32,
        fail: &dyn Fn(&dyn std::fmt::Display) -> Error,
    ) -> Result<Area> {
        let lanes = self.lanes.max(1);
        let root = SVGBackend::with_string(svg, (1000, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        let (plot, legend) = root.split_vertically(height - 34);
        let end = self.end();
        let mut chart = ChartBuilder::on(&plot)
            .caption(&self.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(170)
            .build_cartesian_2d(0.0..end, 0.0..lanes as f64)
            .map_err(|e| fail(&e))?;
        let label = |lane: usize| self.lane_label(lane);
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("seconds since the pool started")
            .y_labels(lanes * 2 + 1)
            .y_label_formatter(&|y| {
                let lane = y.floor() as usize;
                if (y - lane as f64 - 0.5).abs() < 0.01 && lane < lanes {
                    label(lanes - 1 - lane)
                } else {
                    String::new()
                }
            })
            .draw()
            .map_err(|e| fail(&e))?;
        // Lane i is drawn top to bottom: row (lanes - 1 - i).
        let row = |lane: usize| (lanes - 1 - lane.min(lanes - 1)) as f64;
        chart
            .draw_series((0..lanes).map(|lane| {
                let y = row(lane);
                Rectangle::new([(0.0, y + 0.08), (end, y + 0.92)], LANE.filled())
            }))
            .map_err(|e| fail(&e))?;
        let (left, bottom) = chart.backend_coord(&(0.0, 0.0));
        let (right, top) = chart.backend_coord(&(end, lanes as f64));
        let area = Area {
            left: f64::from(left),
            right: f64::from(right),
            bottom: f64::from(bottom),
            top: f64::from(top),
            end,
            lanes,
        };
        draw_legend(&legend, fail)?;
        root.present().map_err(|e| fail(&e))?;
        Ok(area)
    }

    /// A lane's label: its worker, host, first pid and how many replaced it.
    fn lane_label(&self, lane: usize) -> String {
        let pid = self
            .starts
            .iter()
            .find(|s| s.lane == lane)
            .map_or(0, |s| s.pid);
        let replaced = self
            .starts
            .iter()
            .filter(|s| s.lane == lane)
            .count()
            .saturating_sub(1);
        let host = match self.hosts.get(lane) {
            Some(Some(h)) => format!(" · {h}"),
            _ => String::new(),
        };
        match replaced {
            0 => format!("worker {lane}{host} · pid {pid}"),
            n => format!("worker {lane}{host} · pid {pid} (+{n} new)"),
        }
    }

    /// The bars, connectors, ticks and pid labels as SVG elements.
    fn marks(&self, a: &Area, out: &mut dyn Write) -> std::io::Result<()> {
        out.write_all(b"<g class=\"attempts\">\n")?;
        self.bar_marks(a, out)?;
        out.write_all(
            b"</g>\n<g class=\"retries\" fill=\"none\" stroke-width=\"1.2\" stroke-dasharray=\"4 2\">\n",
        )?;
        self.retry_marks(a, out)?;
        out.write_all(b"</g>\n<g class=\"replacements\">\n")?;
        for lane in 0..a.lanes {
            self.replacement_marks(a, lane, out)?;
        }
        out.write_all(b"</g>\n")
    }

    /// One bar per attempt, each with its tooltip.
    fn bar_marks(&self, a: &Area, out: &mut dyn Write) -> std::io::Result<()> {
        // Bars that are not ok go on top, so a quick failure is never
        // hidden under the item that followed it.
        let mut order: Vec<usize> = (0..self.bars.len()).collect();
        order.sort_by_key(|&i| self.bars[i].outcome != "ok");
        for &i in &order {
            let b = &self.bars[i];
            let (x0, x1) = a.bar_x(b);
            let (y0, y1) = (a.y(b.lane, 0.8), a.y(b.lane, 0.2));
            writeln!(
                out,
                "<rect x=\"{x0:.2}\" y=\"{y0:.2}\" width=\"{:.2}\" height=\"{:.2}\" fill=\"{}\"><title>{}</title></rect>",
                x1 - x0,
                y1 - y0,
                hex(color(b.outcome)),
                xml(&b.title)
            )?;
        }
        Ok(())
    }

    /// A dashed connector from each failed attempt to its retry.
    fn retry_marks(&self, a: &Area, out: &mut dyn Write) -> std::io::Result<()> {
        for b in &self.bars {
            let Some(failed) = b.retry_of.and_then(|i| self.bars.get(i)) else {
                continue;
            };
            let from = a.bar_x(failed).1;
            let to = a.bar_x(b).0;
            let path = if failed.lane == b.lane {
                // Over the bars, from the end of the failed one to its retry.
                let (base, over) = (a.y(b.lane, 0.8), a.y(b.lane, 0.88));
                format!("M{from:.2},{base:.2} V{over:.2} H{to:.2} V{base:.2}")
            } else {
                let (y0, y1) = (a.y(failed.lane, 0.5), a.y(b.lane, 0.5));
                format!("M{from:.2},{y0:.2} L{to:.2},{y1:.2}")
            };
            writeln!(
                out,
                "<path d=\"{path}\" stroke=\"{}\"><title>retry after {}</title></path>",
                hex(color(failed.outcome)),
                xml(&failed.title)
            )?;
        }
        Ok(())
    }

    /// Lane `lane`'s replacement ticks and their new-pid labels.
    fn replacement_marks(&self, a: &Area, lane: usize, out: &mut dyn Write) -> std::io::Result<()> {
        let mut ticks: Vec<(f64, u32)> = Vec::new();
        let first = self
            .starts
            .iter()
            .filter(|s| s.lane == lane)
            .map(|s| s.at)
            .fold(f64::INFINITY, f64::min);
        for s in self
            .starts
            .iter()
            .filter(|s| s.lane == lane && s.at > first)
        {
            let x = a.x(s.at);
            writeln!(
                out,
                "<path d=\"M{x:.2},{:.2} V{:.2}\" stroke=\"#000000\" stroke-width=\"2\"><title>worker {lane} replaced: pid {} started at {:.3} s</title></path>",
                a.y(lane, 0.95),
                a.y(lane, 0.05),
                s.pid,
                s.at
            )?;
            // The label starts just after its tick.
            ticks.push((x + 3.0, s.pid));
        }
        ticks.sort_by(|p, q| p.0.total_cmp(&q.0));
        for l in place_labels(&ticks, a.left, a.right) {
            let pids: Vec<String> = l.pids.iter().map(u32::to_string).collect();
            writeln!(
                out,
                "<text x=\"{:.2}\" y=\"{:.2}\" font-family=\"sans-serif\" font-size=\"{LABEL_FONT}\">{}<title>new pids in worker {lane}: {}</title></text>",
                l.x,
                a.y(lane, 1.0) + LABEL_FONT - 2.0,
                l.text,
                pids.join(", ")
            )?;
        }
        Ok(())
    }
}

/// The legend: coloured words along the bottom.
fn draw_legend(
    legend: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    fail: &dyn Fn(&dyn std::fmt::Display) -> Error,
) -> Result<()> {
    let mut x = 150;
    for (name, c) in COLORS {
        let style = ("sans-serif", 14).into_font().color(&c);
        legend
            .draw(&Text::new(format!("■ {name}"), (x, 8), style))
            .map_err(|e| fail(&e))?;
        x += 105;
    }
    for (text, width) in [("| worker replaced (new pid)", 205), ("╌ retry", 0)] {
        legend
            .draw(&Text::new(text, (x, 8), ("sans-serif", 14)))
            .map_err(|e| fail(&e))?;
        x += width;
    }
    Ok(())
}

/// Where the plot is, in pixels, and what it spans.
struct Area {
    left: f64,
    right: f64,
    bottom: f64,
    top: f64,
    end: f64,
    lanes: usize,
}

impl Area {
    /// The pixel of time `t`.
    fn x(&self, t: f64) -> f64 {
        self.left + (t / self.end).clamp(0.0, 1.0) * (self.right - self.left)
    }

    /// The pixel of height `h` (0 bottom, 1 top) within `lane`, drawn top
    /// to bottom.
    fn y(&self, lane: usize, h: f64) -> f64 {
        let row = (self.lanes - 1 - lane.min(self.lanes - 1)) as f64;
        self.bottom - (row + h) / self.lanes as f64 * (self.bottom - self.top)
    }

    /// A bar's left and right pixels: a small gap between neighbours, and
    /// a few pixels at least, so every attempt shows, even one that failed
    /// at once.
    fn bar_x(&self, b: &Bar) -> (f64, f64) {
        let least = if b.outcome == "ok" { 3.0 } else { 6.0 };
        let x0 = self.x(b.start);
        (x0, (self.x(b.end) - 1.0).max(x0 + least))
    }
}

/// How many `<rect>` elements of `svg` are filled with `c` (for tests).
pub fn rects_filled(svg: &str, c: RGBColor) -> usize {
    let fill = format!("fill=\"{}\"", hex(c));
    svg.split("<rect")
        .skip(1)
        .filter(|r| r.split('>').next().is_some_and(|r| r.contains(&fill)))
        .count()
}

#[cfg(test)]
mod tests;
