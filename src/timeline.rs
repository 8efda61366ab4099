//! The run as a picture: `--timeline FILE.svg`.
//!
//! One lane per worker slot, labelled with the pid of its first process;
//! one bar per item from its start to its end, coloured by outcome; a tick
//! and the new pid where a worker was replaced; a time axis in seconds.
//! Drawn with plotters' SVG backend. This module only draws: it gets plain
//! bars and replacements, and knows nothing about pools.

use std::path::Path;

use plotters::prelude::*;

use mproc::error::{Error, ErrorKind, Result};
use mproc::ItemResult;

/// One item's bar.
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
    /// One per item that ran.
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

fn color(outcome: &str) -> RGBColor {
    COLORS
        .iter()
        .find(|(name, _)| *name == outcome)
        .map_or(RGBColor(0x9E, 0x9E, 0x9E), |(_, c)| *c)
}

impl Timeline {
    /// Builds the picture's data from a run's results and its worker
    /// starts `(lane, pid, seconds)`.
    pub fn from_run<T>(
        title: &str,
        lanes: usize,
        results: &[ItemResult<T>],
        starts: &[(usize, u32, f64)],
    ) -> Self {
        let bars = results
            .iter()
            .filter_map(|r| {
                // An item that ran without a worker slot ran in this
                // process (`--serial`): the one lane.
                let (lane, started) = (r.worker.unwrap_or(0), r.started?);
                let start = started.as_secs_f64();
                Some(Bar {
                    lane,
                    start,
                    end: start + r.elapsed.as_secs_f64(),
                    outcome: r.outcome.name(),
                })
            })
            .collect();
        Timeline {
            title: title.to_string(),
            lanes,
            bars,
            starts: starts
                .iter()
                .map(|&(lane, pid, at)| Start { lane, pid, at })
                .collect(),
            hosts: Vec::new(),
        }
    }

    /// Draws the picture as SVG into `path`.
    pub fn write_svg(&self, path: &Path) -> Result<()> {
        let fail = |e: &dyn std::fmt::Display| {
            Error::new(
                ErrorKind::Io,
                format!("cannot draw --timeline {}: {e}", path.display()),
            )
        };
        let lanes = self.lanes.max(1);
        let height = 170 + 46 * lanes as u32;
        // Drawn in memory and written here: plotters' own file writer drops
        // the error of its last flush (`--timeline /dev/full` succeeded).
        let mut svg = String::new();
        self.draw(&mut svg, height, &fail)?;
        std::fs::write(path, svg).map_err(|e| fail(&mproc::error::io_message(&e)))
    }

    fn draw(
        &self,
        svg: &mut String,
        height: u32,
        fail: &dyn Fn(&dyn std::fmt::Display) -> Error,
    ) -> Result<()> {
        let lanes = self.lanes.max(1);
        let root = SVGBackend::with_string(svg, (1000, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        let (plot, legend) = root.split_vertically(height - 34);
        let end = self
            .bars
            .iter()
            .map(|b| b.end)
            .chain(self.starts.iter().map(|s| s.at))
            .fold(0.0f64, f64::max)
            .max(0.001)
            * 1.02;
        let mut chart = ChartBuilder::on(&plot)
            .caption(&self.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(170)
            .build_cartesian_2d(0.0..end, 0.0..lanes as f64)
            .map_err(|e| fail(&e))?;
        let label = |lane: usize| {
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
        };
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
        // Bars that are not ok go on top, so a quick failure is never
        // hidden under the item that followed it.
        let mut bars: Vec<&Bar> = self.bars.iter().collect();
        bars.sort_by_key(|b| b.outcome != "ok");
        chart
            .draw_series(bars.into_iter().map(|b| {
                let y = row(b.lane);
                // A small gap between neighbours, and a few pixels at least,
                // so every item shows, even one that failed at once.
                let least = if b.outcome == "ok" {
                    end / 250.0
                } else {
                    end / 120.0
                };
                let x1 = (b.end - end / 800.0).max(b.start + least);
                Rectangle::new(
                    [(b.start, y + 0.2), (x1, y + 0.8)],
                    color(b.outcome).filled(),
                )
            }))
            .map_err(|e| fail(&e))?;
        let replacements: Vec<&Start> = self
            .starts
            .iter()
            .filter(|s| self.starts.iter().any(|f| f.lane == s.lane && f.at < s.at))
            .collect();
        chart
            .draw_series(replacements.iter().map(|s| {
                let y = row(s.lane);
                PathElement::new(
                    vec![(s.at, y + 0.05), (s.at, y + 0.95)],
                    BLACK.stroke_width(2),
                )
            }))
            .map_err(|e| fail(&e))?;
        if replacements.len() <= 40 {
            chart
                .draw_series(replacements.iter().map(|s| {
                    Text::new(
                        format!("pid {}", s.pid),
                        (s.at, row(s.lane) + 0.99),
                        ("sans-serif", 11),
                    )
                }))
                .map_err(|e| fail(&e))?;
        }
        // The legend: coloured words along the bottom.
        let mut x = 190;
        for (name, c) in COLORS {
            let style = ("sans-serif", 14).into_font().color(&c);
            legend
                .draw(&Text::new(format!("■ {name}"), (x, 8), style))
                .map_err(|e| fail(&e))?;
            x += 110;
        }
        legend
            .draw(&Text::new(
                "| worker replaced (new pid)",
                (x, 8),
                ("sans-serif", 14),
            ))
            .map_err(|e| fail(&e))?;
        root.present().map_err(|e| fail(&e))?;
        Ok(())
    }
}

/// How many `<rect>` elements of `svg` are filled with `c` (for tests).
pub fn rects_filled(svg: &str, c: RGBColor) -> usize {
    let fill = format!("fill=\"#{:02X}{:02X}{:02X}\"", c.0, c.1, c.2);
    svg.split("<rect")
        .skip(1)
        .filter(|r| r.split("/>").next().is_some_and(|r| r.contains(&fill)))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_one_bar_per_item_and_one_lane_per_worker() {
        let t = Timeline {
            title: "test".into(),
            lanes: 2,
            bars: vec![
                Bar {
                    lane: 0,
                    start: 0.0,
                    end: 0.5,
                    outcome: "ok",
                },
                Bar {
                    lane: 1,
                    start: 0.1,
                    end: 0.2,
                    outcome: "crashed",
                },
                Bar {
                    lane: 1,
                    start: 0.3,
                    end: 0.9,
                    outcome: "ok",
                },
            ],
            starts: vec![
                Start {
                    lane: 0,
                    pid: 10,
                    at: 0.0,
                },
                Start {
                    lane: 1,
                    pid: 11,
                    at: 0.0,
                },
                Start {
                    lane: 1,
                    pid: 12,
                    at: 0.25,
                },
            ],
            hosts: vec![None, Some("far".into())],
        };
        let path = std::env::temp_dir().join(format!("mproc-timeline-{}.svg", std::process::id()));
        t.write_svg(&path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        let fills = |c: RGBColor| rects_filled(&svg, c);
        assert_eq!(fills(LANE), 2, "{svg}");
        assert_eq!(fills(COLORS[0].1), 2);
        assert_eq!(fills(COLORS[3].1), 1);
        assert!(svg.contains("worker 1 · far · pid 11 (+1 new)"));
        assert!(svg.contains("pid 12"));
    }
}
