//! A real Slurm cluster for the tests, started on this one host in a temp
//! dir: Debian's `munged`, one `slurmctld`, and one `slurmd -N NAME` per
//! node (each with its own port, spool folder, pid file and log, all named
//! by one `slurm.conf` that only this cluster's commands see through
//! `SLURM_CONF`). Dropping it cancels its jobs, stops every daemon it
//! started (bounded in time) and removes its folder. Needs root and the
//! packages that `.ci/run` installs; elsewhere it says why it cannot start.

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
const CLIENTS: [&str; 6] = ["srun", "salloc", "sbatch", "squeue", "scancel", "scontrol"];

/// A Slurm cluster on 127.0.0.1 in a temp dir.
pub struct Cluster {
    /// Each daemon by name (`munged`, `slurmctld`, `slurmd-NODE`).
    daemons: Vec<(String, Child)>,
    pub conf: PathBuf,
    /// The node names, in order.
    pub nodes: Vec<String>,
    pub dir: TempDir,
    _one: MutexGuard<'static, ()>,
}

/// This host's short name.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .split('.')
        .next()
        .unwrap()
        .to_string()
}

impl Cluster {
    /// A one-node cluster whose node is this host, or why not.
    pub fn one() -> Option<Cluster> {
        Cluster::start(vec![hostname()])
    }

    /// A three-node cluster, nodes d1, d2 and d3, all on this host.
    pub fn three() -> Option<Cluster> {
        Cluster::start(vec!["d1".into(), "d2".into(), "d3".into()])
    }

    /// The one node of a one-node cluster.
    pub fn node(&self) -> &str {
        &self.nodes[0]
    }

    /// Starts one with `nodes`, or says why this machine cannot.
    fn start(nodes: Vec<String>) -> Option<Cluster> {
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
        for sub in ["munge", "state", "spool", "log"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        for node in &nodes {
            std::fs::create_dir_all(dir.join("spool").join(node)).unwrap();
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
        std::fs::write(&conf, slurm_conf(&dir, &nodes, &socket)).unwrap();
        let mut cluster = Cluster {
            daemons: Vec::new(),
            conf,
            nodes,
            dir,
            _one: one,
        };
        let d = cluster.dir.display().to_string();
        cluster.daemon(
            "munged",
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
        cluster.daemon("slurmctld", "slurmctld", &["-D", "-f", &conf]);
        for node in cluster.nodes.clone() {
            let name = format!("slurmd-{node}");
            cluster.daemon(&name, "slurmd", &["-D", "-N", &node, "-f", &conf]);
        }
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

    fn daemon(&mut self, name: &str, program: &str, args: &[&str]) {
        let log = std::fs::File::create(self.dir.join(format!("log/{name}.out"))).unwrap();
        let child = self
            .command(&format!("/usr/sbin/{program}"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        self.daemons.push((name.to_string(), child));
    }

    /// Waits (up to 60 s) for every node to take jobs; fails with the logs.
    fn wait_idle(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let state = self.client(&["sinfo", "-h", "-N", "-o", "%T"], 10);
            let idle = state.stdout.lines().filter(|l| l.trim() == "idle").count();
            if state.code == 0 && idle == self.nodes.len() {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "the Slurm nodes never became idle (last: {:?} {:?}); logs:\n{}",
                    state.stdout,
                    state.stderr,
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The last lines each daemon logged.
    pub fn logs(&self) -> String {
        self.daemons
            .iter()
            .map(|(name, _)| {
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
    pub fn command(&self, program: &str) -> Command {
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
    pub fn client(&self, args: &[&str], seconds: u64) -> Run {
        let mut child = self
            .command(args[0])
            .args(&args[1..])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_bounded(&mut child, seconds).into()
    }

    /// `mproc ARGS` started with this cluster's configuration, its output
    /// piped.
    pub fn mproc(&self, args: &[&str]) -> Child {
        self.command(MPROC)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// `salloc -n TASKS` running `MPROC ARGS`, started.
    pub fn salloc(&self, tasks: &str, args: &[&str]) -> Child {
        self.salloc_with(&["-n", tasks], args)
    }

    /// `salloc OPTIONS` running `MPROC ARGS`, started.
    pub fn salloc_with(&self, options: &[&str], args: &[&str]) -> Child {
        self.command("salloc")
            .args(options)
            .args(["--quiet", "--time=5", MPROC])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// The `JOB.STEP` that process `pid` runs in, from `scontrol listpids`.
    pub fn step_of(&self, pid: u32) -> String {
        let list = self.client(&["scontrol", "listpids"], 30);
        list.stdout
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|w| w.first() == Some(&pid.to_string().as_str()))
            .map(|w| format!("{}.{}", w[1], w[2]))
            .unwrap_or_else(|| panic!("pid {pid} is in no job step:\n{}", list.stdout))
    }

    /// Kills node `node` as a machine that fails does: its `slurmd` at
    /// once (SIGKILL), then every task of this cluster's jobs running on
    /// it. Returns the tasks' pids.
    pub fn kill_node(&mut self, node: &str) -> Vec<u32> {
        let name = format!("slurmd-{node}");
        let (_, slurmd) = self
            .daemons
            .iter_mut()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("no node {node}"));
        let _ = slurmd.kill();
        let _ = slurmd.wait();
        let tasks = self.tasks_on(node);
        for &pid in &tasks {
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
        }
        tasks
    }

    /// The processes of this cluster's job steps on `node`: those whose
    /// environment names this cluster's configuration and the node.
    pub fn tasks_on(&self, node: &str) -> Vec<u32> {
        let on = format!("SLURMD_NODENAME={node}");
        self.processes(|vars| vars.contains(&on.as_bytes()))
    }

    /// Every process of this cluster but its daemons and their children
    /// (slurmctld's script daemon): step daemons, tasks, clients. Each has
    /// this cluster's `SLURM_CONF` (a temp path no other cluster uses) in
    /// its environment.
    fn leftovers(&self) -> Vec<u32> {
        let daemons: Vec<u32> = self.daemons.iter().map(|(_, c)| c.id()).collect();
        let parent = |pid: u32| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            status
                .lines()
                .find_map(|l| l.strip_prefix("PPid:"))
                .and_then(|p| p.trim().parse::<u32>().ok())
        };
        self.processes(|_| true)
            .into_iter()
            .filter(|&pid| {
                !daemons.contains(&pid) && !parent(pid).is_some_and(|p| daemons.contains(&p))
            })
            .collect()
    }

    /// The processes with this cluster's `SLURM_CONF` whose environment
    /// (its variables) also passes `also`.
    fn processes(&self, also: impl Fn(&[&[u8]]) -> bool) -> Vec<u32> {
        let conf = format!("SLURM_CONF={}", self.conf.display());
        let Ok(procs) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        procs
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
                    return false;
                };
                let vars: Vec<&[u8]> = env.split(|&b| b == 0).collect();
                vars.contains(&conf.as_bytes()) && also(&vars)
            })
            .collect()
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
        // The step daemons of cancelled steps end once they have told
        // slurmctld (after KillWait); stopped before that, they would wait
        // for it for ever.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.leftovers().is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        for (_, child) in self.daemons.iter_mut().rev() {
            // A killed node's slurmd is reaped already: its pid may be
            // another process's now.
            if matches!(child.try_wait(), Ok(None)) {
                let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for (_, child) in self.daemons.iter_mut().rev() {
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        // Whatever is left (a killed node's step daemons, say).
        for pid in self.leftovers() {
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
        }
    }
}

/// A free TCP port on 127.0.0.1.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The configuration: every node on this host with its own port, spool
/// folder (`%n` is the node's name), pid file and log.
fn slurm_conf(dir: &Path, nodes: &[String], socket: &Path) -> String {
    // Job ids that no other test cluster uses, so that a late message from
    // a stopped cluster's step daemon can never name a job of this one.
    static CLUSTERS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = CLUSTERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let first_job = (std::process::id() % 60) * 1_000_000 + (n % 90) * 10_000 + 1;
    let host = hostname();
    // Each node claims this machine's CPUs (at least 2, so that a
    // three-node allocation can hold two tasks per node).
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cpus = if nodes.len() > 1 { cpus.max(2) } else { cpus };
    let d = dir.display();
    let mut conf = format!(
        "ClusterName=mproctest\n\
         FirstJobId={first_job}\n\
         SlurmctldHost={host}(127.0.0.1)\n\
         SlurmctldPort={ctld}\n\
         SlurmUser=root\n\
         SlurmdUser=root\n\
         AuthType=auth/munge\n\
         CredType=cred/munge\n\
         AuthInfo=socket={socket}\n\
         StateSaveLocation={d}/state\n\
         SlurmdSpoolDir={d}/spool/%n\n\
         SlurmctldPidFile={d}/slurmctld.pid\n\
         SlurmdPidFile={d}/slurmd-%n.pid\n\
         SlurmctldLogFile={d}/log/slurmctld.log\n\
         SlurmdLogFile={d}/log/slurmd-%n.log\n\
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
         MinJobAge=2\n",
        ctld = free_port(),
        socket = socket.display(),
    );
    for node in nodes {
        conf.push_str(&format!(
            "NodeName={node} NodeHostname={host} NodeAddr=127.0.0.1 Port={port} CPUs={cpus} State=UNKNOWN\n",
            port = free_port()
        ));
    }
    conf.push_str(&format!(
        "PartitionName=debug Nodes={} Default=YES MaxTime=10 State=UP\n",
        nodes.join(",")
    ));
    conf
}
