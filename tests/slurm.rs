//! Workers as Slurm job steps, on a real one-node Slurm cluster (Debian's
//! `munged`, `slurmctld`, `slurmd`) that each test starts on localhost in a
//! temp dir and stops when it ends. Needs root and the packages that
//! `.ci/run` installs; elsewhere each test says it was skipped and why.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::distributed::skipped;
use crate::support::*;

/// One cluster at a time: the machine has few CPUs, and each cluster
/// claims all of them.
static ONE_CLUSTER: Mutex<()> = Mutex::new(());

/// The programs a cluster needs.
const DAEMONS: [&str; 3] = [
    "/usr/sbin/munged",
    "/usr/sbin/slurmctld",
    "/usr/sbin/slurmd",
];
const CLIENTS: [&str; 5] = ["srun", "salloc", "sbatch", "squeue", "scancel"];

/// A one-node Slurm cluster on 127.0.0.1 in a temp dir. Dropping it
/// cancels its jobs and stops its three daemons.
struct Cluster {
    daemons: Vec<(&'static str, Child)>,
    conf: PathBuf,
    node: String,
    dir: TempDir,
    _one: MutexGuard<'static, ()>,
}

impl Cluster {
    /// Starts one, or says why this machine cannot.
    fn start() -> Option<Cluster> {
        if let Err(why) = Cluster::can_start() {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must run as root with slurmctld slurmd slurm-client munge installed (see .ci/run): {why}"
            );
            skipped(&why);
            return None;
        }
        let one = ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
        let dir = temp_dir("slurm");
        let node = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .unwrap()
            .trim()
            .split('.')
            .next()
            .unwrap()
            .to_string();
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        for sub in ["munge", "state", "spool", "log"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let key = dir.join("munge/munge.key");
        // A random key: with a known one, anyone on this machine could
        // forge credentials and run jobs as root on the test cluster.
        let mut random = vec![0u8; 1024];
        std::io::Read::read_exact(
            &mut std::fs::File::open("/dev/urandom").unwrap(),
            &mut random,
        )
        .unwrap();
        std::fs::write(&key, random).unwrap();
        std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o400))
            .unwrap();
        let socket = dir.join("munge/socket");
        let conf = dir.join("slurm.conf");
        std::fs::write(&conf, slurm_conf(&dir, &node, cpus, &socket)).unwrap();
        let mut cluster = Cluster {
            daemons: Vec::new(),
            conf,
            node,
            dir,
            _one: one,
        };
        let d = cluster.dir.display().to_string();
        cluster.daemon(
            "munged",
            &[
                "-F",
                "--force",
                &format!("--socket={}", socket.display()),
                &format!("--key-file={}", key.display()),
                &format!("--pid-file={d}/munge/pid"),
                &format!("--seed-file={d}/munge/seed"),
                &format!("--log-file={d}/log/munged.log"),
            ],
        );
        wait_until("munged's socket", || socket.exists());
        let conf = cluster.conf.display().to_string();
        cluster.daemon("slurmctld", &["-D", "-f", &conf]);
        cluster.daemon("slurmd", &["-D", "-f", &conf]);
        cluster.wait_idle();
        Some(cluster)
    }

    /// Root and every program, or why not.
    fn can_start() -> Result<(), String> {
        use std::os::unix::fs::MetadataExt;
        // /proc/self belongs to this process's effective user.
        if std::fs::metadata("/proc/self").map_or(true, |m| m.uid() != 0) {
            return Err("a Slurm cluster needs root (slurmd runs jobs as their user)".into());
        }
        for daemon in DAEMONS {
            if !Path::new(daemon).exists() {
                return Err(format!(
                    "{daemon} is not installed (apt-get install slurmctld slurmd slurm-client munge)"
                ));
            }
        }
        for client in CLIENTS {
            let found = std::env::var_os("PATH")
                .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(client).exists()));
            if !found {
                return Err(format!(
                    "{client} is not installed (apt-get install slurm-client)"
                ));
            }
        }
        Ok(())
    }

    fn daemon(&mut self, name: &'static str, args: &[&str]) {
        let log = std::fs::File::create(self.dir.join(format!("log/{name}.out"))).unwrap();
        let child = self
            .command(&format!("/usr/sbin/{name}"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        self.daemons.push((name, child));
    }

    /// Waits (up to 60 s) for the node to take jobs; fails with the logs.
    fn wait_idle(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let state = self.client(&["sinfo", "-h", "-o", "%T"], 10);
            if state.code == 0 && state.stdout.trim() == "idle" {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "the Slurm node never became idle (last: {:?} {:?}); logs:\n{}",
                    state.stdout,
                    state.stderr,
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The last lines each daemon logged.
    fn logs(&self) -> String {
        ["munged", "slurmctld", "slurmd"]
            .iter()
            .map(|name| {
                let text = std::fs::read_to_string(self.dir.join(format!("log/{name}.out")))
                    .unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                let tail = lines[lines.len().saturating_sub(40)..].join("\n");
                format!("== {name}\n{tail}\n")
            })
            .collect()
    }

    /// A command that talks to this cluster and to no other: none of the
    /// environment of a Slurm job this test suite may itself run in.
    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("SLURM") {
                cmd.env_remove(name);
            }
        }
        cmd.env("SLURM_CONF", &self.conf)
            .env_remove("RUST_LOG")
            .env_remove("MPROC_CPU_COUNT")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs a Slurm client to its end (at most `seconds`).
    fn client(&self, args: &[&str], seconds: u64) -> Run {
        let mut child = self
            .command(args[0])
            .args(&args[1..])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_bounded(&mut child, seconds).into()
    }

    /// `salloc -n TASKS` running `MPROC ARGS`, started.
    /// `mproc ARGS` started with this cluster's configuration, its output
    /// piped.
    fn mproc(&self, args: &[&str]) -> Child {
        self.command(MPROC)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn salloc(&self, tasks: &str, args: &[&str]) -> Child {
        self.command("salloc")
            .args(["-n", tasks, "--quiet", "--time=5", MPROC])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// The `JOB.STEP` that process `pid` runs in, from `scontrol listpids`.
    fn step_of(&self, pid: u32) -> String {
        let list = self.client(&["scontrol", "listpids"], 30);
        list.stdout
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|w| w.first() == Some(&pid.to_string().as_str()))
            .map(|w| format!("{}.{}", w[1], w[2]))
            .unwrap_or_else(|| panic!("pid {pid} is in no job step:\n{}", list.stdout))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let jobs = self.client(&["squeue", "--all", "--steps"], 10);
            eprintln!("squeue --steps:\n{}\n{}", jobs.stdout, self.logs());
        }
        if let Ok(mut scancel) = self.command("scancel").args(["--user", "root"]).spawn() {
            let deadline = Instant::now() + Duration::from_secs(20);
            while scancel.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = scancel.kill();
            let _ = scancel.wait();
        }
        for (_, child) in self.daemons.iter_mut().rev() {
            let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for (_, child) in self.daemons.iter_mut().rev() {
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn slurm_conf(dir: &Path, node: &str, cpus: usize, socket: &Path) -> String {
    let port = || {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    // Job ids that no other test cluster uses, so that a late message from
    // a stopped cluster's step daemon can never name a job of this one.
    static CLUSTERS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = CLUSTERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let first_job = (std::process::id() % 60) * 1_000_000 + (n % 90) * 10_000 + 1;
    let d = dir.display();
    format!(
        "ClusterName=mproctest\n\
         FirstJobId={first_job}\n\
         SlurmctldHost={node}(127.0.0.1)\n\
         SlurmctldPort={ctld}\n\
         SlurmdPort={slurmd}\n\
         SlurmUser=root\n\
         SlurmdUser=root\n\
         AuthType=auth/munge\n\
         CredType=cred/munge\n\
         AuthInfo=socket={socket}\n\
         StateSaveLocation={d}/state\n\
         SlurmdSpoolDir={d}/spool\n\
         SlurmctldPidFile={d}/slurmctld.pid\n\
         SlurmdPidFile={d}/slurmd.pid\n\
         SlurmctldLogFile={d}/log/slurmctld.log\n\
         SlurmdLogFile={d}/log/slurmd.log\n\
         ProctrackType=proctrack/linuxproc\n\
         TaskPlugin=task/none\n\
         JobAcctGatherType=jobacct_gather/none\n\
         AccountingStorageType=accounting_storage/none\n\
         MpiDefault=none\n\
         SwitchType=switch/none\n\
         SchedulerType=sched/builtin\n\
         SelectType=select/cons_tres\n\
         SelectTypeParameters=CR_CPU\n\
         SlurmdParameters=config_overrides\n\
         ReturnToService=2\n\
         InactiveLimit=0\n\
         KillWait=2\n\
         MinJobAge=2\n\
         NodeName={node} NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN\n\
         PartitionName=debug Nodes={node} Default=YES MaxTime=10 State=UP\n",
        ctld = port(),
        slurmd = port(),
        socket = socket.display(),
    )
}

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
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let launcher = ["--launcher", "srun -N1 -n1 --quiet --unbuffered"];
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
    let Some(cluster) = Cluster::start() else {
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
        .filter(|l| l.ends_with(&format!("\t{}", cluster.node)))
        .count();
    assert_eq!(on_node, 20, "the host column names the node:\n{rows}");
    let svg = std::fs::read_to_string(&svg).unwrap();
    for lane in 0..2 {
        let label = format!("worker {lane} · {} · pid", cluster.node);
        assert!(svg.contains(&label), "no lane labelled {label:?}");
    }
    // The records name the node too, as the job log does.
    let records = doc["results"].as_array().unwrap();
    assert!(
        records.iter().all(|r| r["host"] == cluster.node.as_str()),
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
    let Some(cluster) = Cluster::start() else {
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
    assert!(error.contains(&format!("on {}", cluster.node)), "{error}");
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
    let Some(cluster) = Cluster::start() else {
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
