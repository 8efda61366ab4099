//! The timeline's unit tests: bars and lanes, and the pid labels over them.

use super::*;

fn bar(lane: usize, start: f64, end: f64, outcome: &'static str) -> Bar {
    Bar {
        lane,
        start,
        end,
        outcome,
        title: format!("{outcome} <{lane}> & \"x\"\n\u{1b}"),
        retry_of: None,
    }
}

#[test]
fn draws_one_bar_per_attempt_and_one_lane_per_worker() {
    let mut retry = bar(1, 0.3, 0.9, "ok");
    retry.retry_of = Some(1);
    let t = Timeline {
        title: "test".into(),
        lanes: 2,
        bars: vec![bar(0, 0.0, 0.5, "ok"), bar(1, 0.1, 0.2, "crashed"), retry],
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
    assert!(svg.contains(">pid 12<title>"));
    assert!(svg.contains("<title>crashed &lt;1&gt; &amp; &quot;x&quot;\n\\x1b</title>"));
    assert!(svg.contains("stroke=\"#C62828\"><title>retry after crashed"));
}

#[test]
fn pid_labels_never_overlap_nor_pass_the_right_edge() {
    let (left, right) = (170.0, 980.0);
    let mut ticks: Vec<(f64, u32)> = (0..30)
        .map(|i| (600.0 + i as f64 * 3.0, 40_000 + i))
        .collect();
    ticks.extend([(200.0, 7), (260.0, 8), (979.0, 9), (979.5, 10)]);
    ticks.sort_by(|p, q| p.0.total_cmp(&q.0));
    let labels = place_labels(&ticks, left, right);
    let named: usize = labels.iter().map(|l| l.pids.len()).sum();
    assert_eq!(named, ticks.len(), "every pid is named by one label");
    for l in &labels {
        assert!(l.x >= left && l.x + l.width <= right, "{l:?}");
    }
    for w in labels.windows(2) {
        assert!(w[0].x + w[0].width < w[1].x, "{w:?}");
    }
    assert_eq!(labels[0].text, "pid 7");
    assert!(labels.iter().any(|l| l.text.starts_with("pid 40000 +")));
}
