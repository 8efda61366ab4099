//! When a run stops early, as GNU parallel's `--halt when,why=N` says:
//! after N (or N%) items failed, succeeded or were done, either at once,
//! killing the items still running (`now`), or starting no new one
//! (`soon`; the pool's own `halt_on_error` does `soon,fail=1`, the only
//! `soon` form the pool can do). [`Halt`] is the rule, a plain value the
//! command line builds; [`Watch`] applies it to results as they arrive
//! and says with which exit status the run ends, as GNU parallel 20221122
//! computes it. Knows nothing of pools or jobs.

/// When to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    /// Kill the running items too.
    Now,
    /// Start no new item (only `fail=1`: the pool's `halt_on_error`).
    Soon,
}

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Why {
    /// Items not ok.
    Fail,
    /// Items ok.
    Success,
    /// Items ended, either way.
    Done,
}

/// How many.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Count {
    /// This many items.
    Items(u64),
    /// This percentage of all items (of those read, for a stream).
    Percent(f64),
}

/// A `--halt` rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Halt {
    /// `now` or `soon`.
    pub when: When,
    /// `fail`, `success` or `done`.
    pub why: Why,
    /// `=N` or `=N%`.
    pub count: Count,
}

impl Halt {
    /// Parses GNU parallel's `--halt` value: `never`, `0`, `1`, `2`, `-2`,
    /// `now,fail=N`, `now,success=N%`, `soon,fail=1`, ... `None` for
    /// never; an error (a message) for a form mproc cannot do.
    pub(crate) fn parse(spec: &str) -> Result<Option<Halt>, String> {
        let rule = |when, why, count| Ok(Some(Halt { when, why, count }));
        match spec {
            "0" | "never" => return Ok(None),
            "1" => return rule(When::Soon, Why::Fail, Count::Items(1)),
            "2" => return rule(When::Now, Why::Fail, Count::Items(1)),
            "-2" => return rule(When::Now, Why::Success, Count::Items(1)),
            _ => {}
        }
        let bad = || {
            format!(
                "--halt {spec}: expected never, now,fail=N, now,success=N, now,done=N (N or N%), \
                 soon,fail=1, or 0, 1, 2, -2"
            )
        };
        let (when, rest) = spec.split_once(',').ok_or_else(bad)?;
        let (why, n) = rest.split_once('=').ok_or_else(bad)?;
        let when = match when {
            "now" => When::Now,
            "soon" => When::Soon,
            _ => return Err(bad()),
        };
        let why = match why {
            "fail" => Why::Fail,
            "success" => Why::Success,
            "done" => Why::Done,
            _ => return Err(bad()),
        };
        let count = match n.strip_suffix('%') {
            Some(p) => match p.parse::<f64>() {
                Ok(p) if p > 0.0 && p <= 100.0 => Count::Percent(p),
                _ => return Err(bad()),
            },
            None => match n.parse::<u64>() {
                Ok(n) if n > 0 => Count::Items(n),
                _ => return Err(bad()),
            },
        };
        if when == When::Soon && (why, count) != (Why::Fail, Count::Items(1)) {
            return Err(format!(
                "--halt {spec}: mproc can stop starting items only after the first failure \
                 (soon,fail=1); use now,{rest} to stop at once"
            ));
        }
        Ok(Some(Halt { when, why, count }))
    }
}

/// A rule applied to results as they arrive.
#[derive(Debug)]
pub(crate) struct Watch {
    rule: Halt,
    /// All items, when known (for percentages).
    total: Option<u64>,
    done: u64,
    failed: u64,
    /// The exit status, once the rule fired.
    fired: Option<i32>,
}

impl Watch {
    /// Watches `rule` over a run of `total` items (`None`: a stream).
    pub(crate) fn new(rule: Halt, total: Option<u64>) -> Watch {
        Watch {
            rule,
            total,
            done: 0,
            failed: 0,
            fired: None,
        }
    }

    /// Counts one result (`ok`, and how it ended: `(exit, signal)`);
    /// true when the rule fires with it (once).
    pub(crate) fn see(&mut self, ok: bool, exit: Option<(i32, i32)>) -> bool {
        if self.fired.is_some() {
            return false;
        }
        self.done += 1;
        self.failed += u64::from(!ok);
        let limit = match self.rule.why {
            Why::Fail if !ok => self.failed,
            Why::Success if ok => self.done - self.failed,
            Why::Done => self.done,
            _ => return false,
        };
        let total = self.total.unwrap_or(self.done).max(1);
        let count = match self.rule.count {
            Count::Items(n) => n as f64,
            Count::Percent(p) => total as f64 * p / 100.0,
        };
        if (limit as f64) < count {
            return false;
        }
        self.fired = Some(match (self.rule.why, self.rule.count) {
            (Why::Success, _) => 0,
            (_, Count::Percent(_)) => (self.failed as f64 / total as f64 * 100.0).ceil() as i32,
            (_, Count::Items(1)) => match exit {
                Some((_, sig)) if sig > 0 => 128 + sig,
                Some((code, _)) => code,
                None => i32::from(!ok),
            },
            (_, Count::Items(_)) => self.failed.min(101) as i32,
        });
        true
    }

    /// The rule's `when`.
    pub(crate) fn when(&self) -> When {
        self.rule.when
    }

    /// The run's exit status, if the rule fired.
    pub(crate) fn status(&self) -> Option<i32> {
        self.fired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_as_gnu_parallel_spells_them() {
        assert_eq!(Halt::parse("never").unwrap(), None);
        let two = Halt::parse("2").unwrap().unwrap();
        assert_eq!((two.when, two.why), (When::Now, Why::Fail));
        let pct = Halt::parse("now,fail=50%").unwrap().unwrap();
        assert_eq!(pct.count, Count::Percent(50.0));
        assert!(Halt::parse("soon,fail=3")
            .unwrap_err()
            .contains("now,fail=3"));
        assert!(Halt::parse("now,fail=0").is_err());
        assert!(Halt::parse("later,fail=1").is_err());
    }

    #[test]
    fn exit_statuses_follow_gnu_parallel() {
        // parallel -j1 --halt X 'echo {}; exit {}' ::: 1 0 2 3 0
        let run = |spec: &str| {
            let mut w = Watch::new(Halt::parse(spec).unwrap().unwrap(), Some(5));
            let mut seen = 0;
            for code in [1, 0, 2, 3, 0] {
                seen += 1;
                if w.see(code == 0, Some((code, 0))) {
                    break;
                }
            }
            (seen, w.status())
        };
        assert_eq!(run("now,success=1"), (2, Some(0)));
        assert_eq!(run("now,done=2"), (2, Some(1)));
        assert_eq!(run("now,fail=2"), (3, Some(2)));
        assert_eq!(run("now,fail=50%"), (4, Some(60)));
        assert_eq!(run("now,done=1"), (1, Some(1)));
    }
}
