//! Slurm as a placement: inside an allocation (`salloc`, `sbatch`), each
//! pool slot runs its worker as a one-task job step, pinned to a node of
//! the allocation so that the job log and the timeline can name it.
//!
//! This module reads the allocation from Slurm's environment variables and
//! decides each slot's `srun` command line; it starts nothing and talks to
//! no Slurm daemon.

use std::ffi::OsString;
use std::path::Path;

use super::HostSlots;
use crate::child::WorkerCommand;
use crate::error::{Error, Result};
use crate::limits::MAX_PROCESSES;

/// The most node names a node list may expand to.
const MAX_NODES: usize = 65_536;

/// A Slurm allocation, as its environment describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SlurmAllocation {
    /// `SLURM_JOB_ID`.
    pub job_id: String,
    /// Each node of the allocation with the tasks (else CPUs) it holds.
    pub nodes: Vec<HostSlots>,
    /// The default number of workers: `SLURM_NTASKS`, else
    /// `SLURM_CPUS_ON_NODE`, else the allocation's CPUs.
    pub tasks: usize,
    /// True when mproc itself runs inside a job step (`SLURM_STEP_ID`),
    /// whose resources the worker steps then share (`--overlap`).
    pub in_step: bool,
}

impl SlurmAllocation {
    /// The allocation this process runs in.
    pub fn from_env() -> Result<SlurmAllocation> {
        SlurmAllocation::from_vars(|name| std::env::var(name).ok())
    }

    /// The allocation that the variables `var` gives describe.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<SlurmAllocation> {
        let job_id = var("SLURM_JOB_ID")
            .filter(|id| !id.trim().is_empty())
            .ok_or_else(|| {
                Error::usage(
                    "--slurm needs a Slurm allocation, but SLURM_JOB_ID is not set: \
                     run mproc inside salloc or an sbatch script",
                )
            })?;
        if !job_id.chars().all(|c| c.is_ascii_digit() || c == '_') {
            return Err(Error::usage(format!(
                "SLURM_JOB_ID '{job_id}' is not a Slurm job id"
            )));
        }
        let number = |name: &str| -> Result<Option<usize>> {
            match var(name) {
                None => Ok(None),
                Some(v) => v
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|&n| n > 0)
                    .map(Some)
                    .ok_or_else(|| Error::usage(format!("{name} '{v}' is not a positive number"))),
            }
        };
        let names = match var("SLURM_JOB_NODELIST").or_else(|| var("SLURM_NODELIST")) {
            Some(list) => expand_nodelist(&list)?,
            None => Vec::new(),
        };
        let (counts_var, counts) =
            match (var("SLURM_TASKS_PER_NODE"), var("SLURM_JOB_CPUS_PER_NODE")) {
                (Some(t), _) => (
                    "SLURM_TASKS_PER_NODE",
                    expand_counts("SLURM_TASKS_PER_NODE", &t)?,
                ),
                (None, Some(c)) => (
                    "SLURM_JOB_CPUS_PER_NODE",
                    expand_counts("SLURM_JOB_CPUS_PER_NODE", &c)?,
                ),
                (None, None) => ("", vec![1; names.len()]),
            };
        if counts.len() != names.len() {
            return Err(Error::usage(format!(
                "{counts_var} gives {} counts for the {} nodes of SLURM_JOB_NODELIST",
                counts.len(),
                names.len()
            )));
        }
        let nodes: Vec<HostSlots> = names
            .into_iter()
            .zip(counts)
            .map(|(host, processes)| HostSlots {
                host: Some(host),
                processes,
            })
            .collect();
        let total = nodes
            .iter()
            .fold(0usize, |sum, n| sum.saturating_add(n.processes));
        let tasks = match number("SLURM_NTASKS")? {
            Some(n) => n,
            None => match number("SLURM_CPUS_ON_NODE")? {
                Some(n) => n,
                None => total.max(1),
            },
        };
        Ok(SlurmAllocation {
            job_id,
            nodes,
            tasks,
            in_step: var("SLURM_STEP_ID").is_some(),
        })
    }

    /// The command of each of `processes` slots: `srun` one task of
    /// `program worker`, pinned to a node. Slots are dealt to the nodes in
    /// turn, up to each node's tasks; slots past the allocation (and all of
    /// them when mproc runs inside a step) share CPUs with `--overlap`
    /// instead of waiting for a free one.
    pub(crate) fn commands(&self, processes: usize, program: &Path) -> Vec<WorkerCommand> {
        self.deal(processes)
            .into_iter()
            .map(|(node, beyond)| {
                let mut srun: Vec<OsString> = [
                    "srun".to_string(),
                    format!("--jobid={}", self.job_id),
                    "--nodes=1".into(),
                    "--ntasks=1".into(),
                    "--exact".into(),
                    "--quiet".into(),
                    // slurmstepd holds a task's output until a newline
                    // otherwise, and frames are binary.
                    "--unbuffered".into(),
                    "--job-name=mproc-worker".into(),
                ]
                .map(OsString::from)
                .to_vec();
                if beyond || self.in_step {
                    srun.push("--overlap".into());
                }
                let command = WorkerCommand::program(program);
                match node.and_then(|i| self.nodes[i].host.clone()) {
                    Some(name) => {
                        srun.push(format!("--nodelist={name}").into());
                        command.with_launcher(srun).on_host(name)
                    }
                    None => command.with_launcher(srun),
                }
            })
            .collect()
    }

    /// For each slot, its node (an index into `nodes`) and whether it lies
    /// beyond the node's share of the allocation.
    fn deal(&self, processes: usize) -> Vec<(Option<usize>, bool)> {
        let mut slots = Vec::with_capacity(processes.min(MAX_PROCESSES));
        let most = self.nodes.iter().map(|n| n.processes).max().unwrap_or(0);
        let mut round = 0;
        while slots.len() < processes && round < most {
            for (i, node) in self.nodes.iter().enumerate() {
                if node.processes > round && slots.len() < processes {
                    slots.push((Some(i), false));
                }
            }
            round += 1;
        }
        let mut next = 0;
        while slots.len() < processes {
            let node = (!self.nodes.is_empty()).then(|| next % self.nodes.len());
            slots.push((node, true));
            next += 1;
        }
        slots
    }
}

/// Expands a Slurm node list: `node[01-03,7],gpu1` → node01, node02,
/// node03, node7, gpu1 (several bracket groups in one name multiply).
pub(crate) fn expand_nodelist(list: &str) -> Result<Vec<String>> {
    let bad = |why: &str| Error::usage(format!("SLURM_JOB_NODELIST '{list}' {why}"));
    let mut names = Vec::new();
    for part in split_top(list).map_err(|()| bad("has unbalanced brackets"))? {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        expand_name(part, &mut names).map_err(|why| bad(&why))?;
        if names.len() > MAX_NODES {
            return Err(bad(&format!("names more than {MAX_NODES} nodes")));
        }
    }
    if names.is_empty() {
        return Err(bad("names no node"));
    }
    Ok(names)
}

/// Splits at the commas outside brackets.
fn split_top(list: &str) -> std::result::Result<Vec<&str>, ()> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0usize, 0);
    for (i, c) in list.char_indices() {
        match c {
            '[' if depth == 0 => depth = 1,
            ']' if depth == 1 => depth = 0,
            '[' | ']' => return Err(()),
            ',' if depth == 0 => {
                parts.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(());
    }
    parts.push(&list[start..]);
    Ok(parts)
}

/// Expands one name with any number of `[a-b,c]` groups into `out`.
fn expand_name(name: &str, out: &mut Vec<String>) -> std::result::Result<(), String> {
    let Some(open) = name.find('[') else {
        out.push(name.to_string());
        return Ok(());
    };
    let close = open + name[open..].find(']').ok_or("has unbalanced brackets")?;
    let (prefix, rest) = (&name[..open], &name[close + 1..]);
    for range in name[open + 1..close].split(',') {
        let (lo, hi) = range.split_once('-').unwrap_or((range, range));
        let parse = |s: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| format!("has a bad range '{range}'"))
        };
        let (a, b) = (parse(lo)?, parse(hi)?);
        if b < a || b - a > MAX_NODES as u64 {
            return Err(format!("has a bad range '{range}'"));
        }
        let width = lo.trim().len();
        for n in a..=b {
            expand_name(&format!("{prefix}{n:0width$}{rest}"), out)?;
            if out.len() > MAX_NODES {
                return Err(format!("names more than {MAX_NODES} nodes"));
            }
        }
    }
    Ok(())
}

/// Expands Slurm's per-node counts: `2(x3),1` → 2, 2, 2, 1.
pub(crate) fn expand_counts(name: &str, spec: &str) -> Result<Vec<usize>> {
    let bad = || Error::usage(format!("{name} '{spec}' is not a list like 2(x3),1"));
    let mut counts = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (count, times) = match part.split_once("(x") {
            Some((c, t)) => (c, t.strip_suffix(')').ok_or_else(bad)?),
            None => (part, "1"),
        };
        let count: usize = count.trim().parse().map_err(|_| bad())?;
        let times: usize = times.trim().parse().map_err(|_| bad())?;
        if counts.len().saturating_add(times) > MAX_NODES {
            return Err(bad());
        }
        counts.extend(std::iter::repeat_n(count, times));
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn node_lists_expand_like_scontrol_show_hostnames() {
        assert_eq!(
            expand_nodelist("node[01-03,7],gpu1").unwrap(),
            ["node01", "node02", "node03", "node7", "gpu1"]
        );
        assert_eq!(
            expand_nodelist("r[1-2]n[1-2]").unwrap(),
            ["r1n1", "r1n2", "r2n1", "r2n2"]
        );
        for bad in ["", "n[1-", "n[3-1]", "n[a-b]", "n[1-99999999999]", "n]"] {
            assert!(expand_nodelist(bad).is_err(), "{bad}");
        }
        assert_eq!(expand_counts("X", "2(x3),1").unwrap(), [2, 2, 2, 1]);
        assert!(expand_counts("X", "2(x99999999999)").is_err());
        assert!(expand_counts("X", "two").is_err());
    }

    #[test]
    fn an_allocation_gives_the_default_size_and_one_pinned_step_per_slot() {
        let vars = [
            ("SLURM_JOB_ID", "42"),
            ("SLURM_JOB_NODELIST", "n[1-2]"),
            ("SLURM_TASKS_PER_NODE", "2,1"),
            ("SLURM_NTASKS", "3"),
        ];
        let slurm = SlurmAllocation::from_vars(env(&vars)).unwrap();
        assert_eq!(slurm.tasks, 3);
        let commands = slurm.commands(4, Path::new("/shared/mproc"));
        let hosts: Vec<_> = commands.iter().map(|c| c.host().unwrap()).collect();
        assert_eq!(hosts, ["n1", "n2", "n1", "n1"]);
        let words = |c: &WorkerCommand| format!("{c:?}");
        assert!(words(&commands[0]).contains("--nodelist=n1"));
        assert!(words(&commands[0]).contains("--jobid=42"));
        assert!(!words(&commands[2]).contains("--overlap"));
        assert!(
            words(&commands[3]).contains("--overlap"),
            "beyond the allocation"
        );

        let salloc_c = [
            ("SLURM_JOB_ID", "7"),
            ("SLURM_JOB_NODELIST", "a"),
            ("SLURM_JOB_CPUS_PER_NODE", "4"),
        ];
        assert_eq!(SlurmAllocation::from_vars(env(&salloc_c)).unwrap().tasks, 4);
    }

    #[test]
    fn outside_an_allocation_or_with_bad_variables_it_is_a_usage_error() {
        let e = SlurmAllocation::from_vars(env(&[])).unwrap_err();
        assert!(e.to_string().contains("SLURM_JOB_ID is not set"), "{e}");
        for vars in [
            [("SLURM_JOB_ID", "1;rm"), ("SLURM_NTASKS", "1")],
            [("SLURM_JOB_ID", "1"), ("SLURM_NTASKS", "-3")],
            [("SLURM_JOB_ID", "1"), ("SLURM_JOB_NODELIST", "n[1-2]")],
        ] {
            let with_counts: Vec<_> = vars
                .into_iter()
                .chain([("SLURM_TASKS_PER_NODE", "1")])
                .collect();
            assert!(
                SlurmAllocation::from_vars(env(&with_counts)).is_err(),
                "{vars:?}"
            );
        }
    }
}
