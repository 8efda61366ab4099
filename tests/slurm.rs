//! Workers as Slurm job steps, on a real Slurm cluster (Debian's
//! `munged`, `slurmctld`, `slurmd`) that each test starts on this host in a
//! temp dir and stops when it ends ([`cluster`]): one node here, three in
//! [`nodes`]. Needs root and the packages that `.ci/run` installs;
//! elsewhere each test says it was skipped and why.

mod cluster;
mod nodes;

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::support::*;
use cluster::Cluster;

/// The values of a `--json` document.
fn values(doc: &serde_json::Value) -> Vec<u64> {
    doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"].as_u64().unwrap_or_else(|| panic!("{r}")))
        .collect()
}

/// An `analyze --json` document without what differs from run to run.
fn analysis(doc: &serde_json::Value) -> Vec<serde_json::Value> {
    let mut records = doc["results"].as_array().unwrap().clone();
    for r in &mut records {
        let r = r.as_object_mut().unwrap();
        // Where and when it ran (the host: the node, or null here).
        for volatile in ["pid", "worker", "host", "started_ms", "elapsed_ms"] {
            r.remove(volatile);
        }
    }
    records
}

/// The text fixtures, as analyze arguments.
fn text_files() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/text");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .filter(|p| !p.ends_with(".md"))
        .collect();
    files.sort();
    files
}

fn local_analysis(files: &[String]) -> Vec<serde_json::Value> {
    let mut args = vec!["-q", "pool", "-n", "2", "--json", "analyze"];
    args.extend(files.iter().map(String::as_str));
    analysis(&run_expect(&args, 0).json())
}

#[track_caller]
fn finished(child: &mut Child, seconds: u64, code: i32) -> Run {
    let r: Run = wait_bounded(child, seconds).into();
    assert_eq!(r.code, code, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    r
}

#[test]
fn slurm_outside_an_allocation_is_a_usage_error() {
    let mut cmd = mproc();
    cmd.env_remove("SLURM_JOB_ID")
        .args(["pool", "--slurm", "square", "1"]);
    let r = output(&mut cmd);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("--slurm needs a Slurm allocation, but SLURM_JOB_ID is not set"),
        "{}",
        r.stderr
    );
    let r = run(&["pool", "--slurm", "--hosts", "a:1", "square", "1"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn square_and_analyze_through_the_srun_launcher() {
    let Some(cluster) = Cluster::one() else {
        return;
    };
    // As people type it: mproc adds --unbuffered.
    let launcher = ["--launcher", "srun -N1 -n1"];
    let mut args = vec!["-q", "pool", "-n", "2"];
    args.extend(launcher);
    let square = [&args[..], &["--json", "square", "20"]].concat();
    let doc = finished(&mut cluster.mproc(&square), 120, 0).json();
    assert_eq!(values(&doc), (0..20).map(|x| x * x).collect::<Vec<_>>());

    let files = text_files();
    let mut analyze = [&args[..], &["--json", "analyze"]].concat();
    analyze.extend(files.iter().map(String::as_str));
    let doc = finished(&mut cluster.mproc(&analyze), 120, 0).json();
    assert_eq!(analysis(&doc), local_analysis(&files));
}

#[test]
fn square_and_analyze_as_job_steps_inside_salloc_and_sbatch() {
    let Some(cluster) = Cluster::one() else {
        return;
    };
    let log = cluster.dir.join("jobs.tsv").display().to_string();
    let svg = cluster.dir.join("run.svg").display().to_string();
    let mut salloc = cluster.salloc(
        "2",
        &[
            "-q",
            "pool",
            "--slurm",
            "--joblog",
            &log,
            "--timeline",
            &svg,
            "--json",
            "square",
            "20",
        ],
    );
    let doc = finished(&mut salloc, 120, 0).json();
    assert_eq!(values(&doc), (0..20).map(|x| x * x).collect::<Vec<_>>());
    assert_eq!(
        doc["summary"]["processes"], 2,
        "-n defaults to SLURM_NTASKS"
    );
    let rows = std::fs::read_to_string(&log).unwrap();
    let on_node = rows
        .lines()
        .skip(1)
        .filter(|l| l.ends_with(&format!("\t{}", cluster.node())))
        .count();
    assert_eq!(on_node, 20, "the host column names the node:\n{rows}");
    let svg = std::fs::read_to_string(&svg).unwrap();
    for lane in 0..2 {
        let label = format!("worker {lane} · {} · pid", cluster.node());
        assert!(svg.contains(&label), "no lane labelled {label:?}");
    }
    // The records name the node too, as the job log does.
    let records = doc["results"].as_array().unwrap();
    assert!(
        records.iter().all(|r| r["host"] == cluster.node()),
        "{records:?}"
    );

    let files = text_files();
    let mut args = vec!["-q", "pool", "--slurm", "--json", "analyze"];
    args.extend(files.iter().map(String::as_str));
    let doc = finished(&mut cluster.salloc("2", &args), 120, 0).json();
    assert_eq!(analysis(&doc), local_analysis(&files));

    // The sbatch recipe of docs/DISTRIBUTED.md.
    let script = cluster.dir.join("job.sh");
    let out = cluster.dir.join("job.out");
    let err = cluster.dir.join("job.err");
    std::fs::write(
        &script,
        format!("#!/bin/sh\n{MPROC} pool --slurm --json square 7\n"),
    )
    .unwrap();
    let out_arg = format!("--output={}", out.display());
    let err_arg = format!("--error={}", err.display());
    let script_arg = script.display().to_string();
    let batch = cluster.client(
        &[
            "sbatch",
            "--wait",
            "-n",
            "2",
            "--time=5",
            "--quiet",
            &out_arg,
            &err_arg,
            &script_arg,
        ],
        120,
    );
    let printed = std::fs::read_to_string(&out).unwrap_or_default();
    let logged = std::fs::read_to_string(&err).unwrap_or_default();
    assert_eq!(batch.code, 0, "{}\njob stderr:\n{logged}", batch.stderr);
    let doc: serde_json::Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(values(&doc), [0, 1, 4, 9, 16, 25, 36]);
}

#[test]
fn a_worker_step_cancelled_mid_map_is_a_crash_and_the_run_goes_on() {
    let Some(cluster) = Cluster::one() else {
        return;
    };
    let pidfile = cluster.dir.join("pid");
    let hang = format!("hang:{}", pidfile.display());
    let mut salloc = cluster.salloc(
        "2",
        &[
            "-q", "pool", "--slurm", "--json", "chaos", "ok:a", &hang, "sleep:20", "ok:b", "ok:c",
        ],
    );
    let pid: u32 = wait_for_file(&pidfile).trim().parse().unwrap();
    let step = cluster.step_of(pid);
    let cancel = cluster.client(&["scancel", &step], 30);
    assert_eq!(cancel.code, 0, "scancel {step}: {}", cancel.stderr);
    let doc = finished(&mut salloc, 120, 1).json();
    assert_eq!(outcomes(&doc), ["ok", "crashed", "ok", "ok", "ok"]);
    let error = doc["results"][1]["error"].as_str().unwrap();
    assert!(error.contains(&format!("on {}", cluster.node())), "{error}");
}

/// Runs `MPROC ARGS` inside an allocation that outlives it, and returns the
/// allocation's `salloc` and the files where the allocation records, after
/// mproc ends, mproc's exit code and the job steps still listed (it waits
/// up to 30 s for them to go).
fn run_then_list_steps(cluster: &Cluster, name: &str, args: &[&str]) -> (Child, PathBuf, PathBuf) {
    let exit = cluster.dir.join(format!("{name}.exit"));
    let steps = cluster.dir.join(format!("{name}.steps"));
    let script = format!(
        "\"$@\" >/dev/null 2>&1; echo $? > {exit}; n=0; \
         while [ -n \"$(squeue -h --steps -j $SLURM_JOB_ID)\" ] && [ $n -lt 300 ]; do n=$((n+1)); sleep 0.1; done; \
         squeue -h --steps -j $SLURM_JOB_ID > {steps}.tmp; mv {steps}.tmp {steps}",
        exit = exit.display(),
        steps = steps.display()
    );
    let child = cluster
        .command("salloc")
        .args([
            "-n", "2", "--quiet", "--time=5", "sh", "-c", &script, "sh", MPROC,
        ])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    (child, exit, steps)
}

/// The pid of the `mproc` under `salloc` → `sh`.
fn mproc_under(salloc: &Child) -> u32 {
    let exe = std::fs::canonicalize(MPROC).unwrap();
    let mut found = None;
    wait_until("mproc to start under salloc", || {
        found = children(salloc.id())
            .into_iter()
            .flat_map(children)
            .find(|&pid| std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|e| e == exe));
        found.is_some()
    });
    found.unwrap()
}

#[test]
fn no_job_step_outlives_ctrl_c_a_timeout_or_a_killed_parent() {
    let Some(cluster) = Cluster::one() else {
        return;
    };
    for (name, signal) in [
        ("ctrl-c", Some(Signal::SIGINT)),
        ("timeout", None),
        ("killed", Some(Signal::SIGKILL)),
    ] {
        let files: Vec<PathBuf> = (0..2)
            .map(|i| cluster.dir.join(format!("{name}{i}.pid")))
            .collect();
        let hangs: Vec<String> = files
            .iter()
            .map(|f| format!("hang:{}", f.display()))
            .collect();
        let mut args = vec!["pool", "--slurm"];
        if signal.is_none() {
            args.extend(["--timeout", "1"]);
        }
        args.push("chaos");
        args.extend(hangs.iter().map(String::as_str));
        let (mut salloc, exit, steps) = run_then_list_steps(&cluster, name, &args);
        for file in &files {
            wait_for_file(file);
        }
        if let Some(signal) = signal {
            kill(Pid::from_raw(mproc_under(&salloc) as i32), signal).unwrap();
        }
        let r = finished(&mut salloc, 120, 0);
        let code = std::fs::read_to_string(&exit).unwrap();
        let expected = match signal {
            Some(Signal::SIGINT) => "130",
            Some(_) => "137",
            None => "1",
        };
        assert_eq!(code.trim(), expected, "{name}: {}", r.stderr);
        let left = std::fs::read_to_string(&steps).unwrap();
        assert_eq!(left, "", "{name}: job steps left after mproc ended");
    }
}
