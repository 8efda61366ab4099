//! Where workers run: host lists (`--hosts host1:4,host2:8,:2`,
//! `--hostfile FILE`), a Slurm allocation (`--slurm`), and the command each
//! pool slot starts.
//!
//! A slot on this machine runs this executable, or, behind `--launcher`,
//! the worker path the launcher can reach. A slot on another host runs
//! `ssh -T -- HOST mproc worker` (the ssh command and the worker path are
//! settable); a host is a name, never an option, so one that starts with
//! `-` is refused. Inside a Slurm allocation a slot runs one job step
//! ([`SlurmAllocation`]). Everything else about a remote worker (the handshake,
//! crashes, timeouts) is the same as for a local one; this module only
//! decides what to execute.

mod slurm;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::child::WorkerCommand;
use crate::error::{Error, Result};
use crate::limits::MAX_PROCESSES;
pub use slurm::SlurmAllocation;

/// A number of workers on one host (`None`: this machine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSlots {
    /// The host, as ssh names it; `None` for this machine.
    pub host: Option<String>,
    /// How many workers to run there.
    pub processes: usize,
}

/// Parses `host1:4,host2:8,:2` (GNU parallel's `4/host1` also works; a
/// bare `host` means one worker; `:N` means N local workers).
pub fn parse_hosts(spec: &str) -> Result<Vec<HostSlots>> {
    let list: Vec<HostSlots> = spec
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|entry| parse_entry(entry, &format!("--hosts entry '{entry}'")))
        .collect::<Result<_>>()?;
    if list.is_empty() {
        return Err(Error::usage(
            "--hosts is empty: give host:N entries, e.g. --hosts node1:4,:2",
        ));
    }
    Ok(list)
}

/// The most bytes a host file may hold: 1 MiB, some 50,000 hosts.
pub const MAX_HOSTFILE: u64 = 1 << 20;

/// Reads a host file: one entry per line as in `--hosts`, `#` comments; at
/// most [`MAX_HOSTFILE`] bytes of UTF-8.
pub fn read_hostfile(path: &Path) -> Result<Vec<HostSlots>> {
    let bytes = crate::bounded::read_file("--hostfile", path, MAX_HOSTFILE)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::usage(format!(
            "--hostfile {} is not UTF-8 text (byte {})",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })?;
    let mut list = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if !line.is_empty() {
            list.push(parse_entry(
                line,
                &format!("--hostfile {} line {}", path.display(), n + 1),
            )?);
        }
    }
    if list.is_empty() {
        return Err(Error::usage(format!(
            "--hostfile {} names no host",
            path.display()
        )));
    }
    Ok(list)
}

fn parse_entry(entry: &str, context: &str) -> Result<HostSlots> {
    let bad = || Error::usage(format!("{context} is not HOST:N, N/HOST or :N"));
    let option = |host: &str| {
        Error::usage(format!(
            "{context}: host '{host}' starts with '-': a host is a name, not an ssh option"
        ))
    };
    if entry.starts_with('-') {
        return Err(option(entry));
    }
    let (host, count) = if let Some((n, host)) = entry.split_once('/') {
        (host, Some(n))
    } else if let Some((host, n)) = entry.rsplit_once(':') {
        (host, Some(n))
    } else {
        (entry, None)
    };
    let processes = match count {
        Some(n) => n
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(bad)?,
        None => 1,
    };
    if processes > MAX_PROCESSES {
        return Err(Error::usage(format!(
            "{context} asks for {processes} workers, over the limit of {MAX_PROCESSES} per pool"
        )));
    }
    let host = host.trim();
    if host.contains(|c: char| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    // ssh reads a word that starts with '-' as an option (-oProxyCommand=...
    // runs a command): a host, and the user in user@host, are names.
    let name = match host.rsplit_once('@') {
        Some((user, name)) if user.is_empty() || name.is_empty() => return Err(bad()),
        Some((_, name)) => name,
        None => host,
    };
    if host.starts_with('-') || name.starts_with('-') {
        return Err(option(host));
    }
    Ok(HostSlots {
        host: (!host.is_empty()).then(|| host.to_string()),
        processes,
    })
}

/// The ssh command used for remote hosts unless one is given.
pub fn default_ssh() -> Vec<OsString> {
    ["ssh", "-T", "-o", "BatchMode=yes"]
        .map(OsString::from)
        .to_vec()
}

/// Splits a command given as one string (`--launcher 'srun -N1 -n1'`)
/// the way a POSIX shell would.
pub fn split_command(flag: &str, command: &str) -> Result<Vec<OsString>> {
    match shlex::split(command) {
        Some(words) if !words.is_empty() => Ok(words.into_iter().map(OsString::from).collect()),
        _ => Err(Error::usage(format!(
            "{flag} '{command}' is not a command (empty or unbalanced quotes)"
        ))),
    }
}

/// The launcher as it runs: one whose first word is `srun` gets
/// `--unbuffered` after that word unless it has `-u`/`--unbuffered`, since
/// slurmstepd would otherwise hold the worker's binary output (and its
/// handshake) until a newline. So `srun -N1 -n1` works as people type it.
pub fn launcher_words(launcher: &[OsString]) -> Vec<OsString> {
    let mut words = launcher.to_vec();
    if srun_without_unbuffered(launcher) {
        words.insert(1, "--unbuffered".into());
    }
    words
}

/// True when `launcher` is `srun` without `-u`/`--unbuffered`.
fn srun_without_unbuffered(launcher: &[OsString]) -> bool {
    let is_srun = launcher
        .first()
        .and_then(|p| Path::new(p).file_name())
        .is_some_and(|name| name == "srun");
    is_srun && !launcher.iter().any(|w| w == "-u" || w == "--unbuffered")
}

/// Where and how each pool slot's worker runs.
/// Built with [`Placement::default`] or [`Placement::slurm`] and the
/// chainable setters.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Placement {
    /// Hosts and their worker counts; empty means `processes` local ones.
    pub hosts: Vec<HostSlots>,
    /// A prefix for local workers' command lines.
    pub launcher: Vec<OsString>,
    /// The ssh command for remote hosts (default [`default_ssh`]).
    pub ssh: Vec<OsString>,
    /// The mproc binary where the worker runs (default: this executable
    /// locally, `mproc` on another host's PATH).
    pub worker_path: Option<PathBuf>,
    /// Run each worker as a job step of this Slurm allocation.
    pub slurm: Option<SlurmAllocation>,
}

impl Placement {
    /// Workers as job steps of the Slurm allocation this process runs in
    /// (`SLURM_JOB_ID` must be set); see [`SlurmAllocation`].
    pub fn slurm() -> Result<Placement> {
        Ok(Placement {
            slurm: Some(SlurmAllocation::from_env()?),
            ..Placement::default()
        })
    }

    /// Workers on these hosts ([`parse_hosts`], [`read_hostfile`]); none:
    /// local workers.
    pub fn hosts(mut self, hosts: Vec<HostSlots>) -> Placement {
        self.hosts = hosts;
        self
    }

    /// Local workers' command lines start with `launcher`
    /// ([`split_command`]).
    pub fn launcher(mut self, launcher: Vec<OsString>) -> Placement {
        self.launcher = launcher;
        self
    }

    /// Remote hosts are reached with this ssh command ([`split_command`];
    /// empty: [`default_ssh`]).
    pub fn ssh(mut self, ssh: Vec<OsString>) -> Placement {
        self.ssh = ssh;
        self
    }

    /// The mproc binary where the worker runs.
    pub fn worker_path(mut self, path: impl Into<PathBuf>) -> Placement {
        self.worker_path = Some(path.into());
        self
    }

    /// The number of workers this placement suggests when none is asked
    /// for: a Slurm allocation's tasks.
    pub fn default_processes(&self) -> Option<usize> {
        self.slurm.as_ref().map(|s| s.tasks)
    }

    /// True when nothing asks for anything but local workers of this
    /// executable.
    pub fn is_local(&self) -> bool {
        self.launcher.is_empty()
            && self.worker_path.is_none()
            && self.slurm.is_none()
            && self.hosts.iter().all(|h| h.host.is_none())
    }

    /// The command of every slot, for `processes` slots when no hosts
    /// are given.
    pub(crate) fn commands(&self, processes: usize) -> Result<Vec<WorkerCommand>> {
        if let Some(slurm) = &self.slurm {
            return Ok(slurm.commands(processes, &self.worker_program()?));
        }
        let hosts = if self.hosts.is_empty() {
            vec![HostSlots {
                host: None,
                processes,
            }]
        } else {
            self.hosts.clone()
        };
        let mut commands = Vec::new();
        for slots in &hosts {
            let command = match &slots.host {
                None => self.local()?,
                Some(host) => {
                    let mut launcher = if self.ssh.is_empty() {
                        default_ssh()
                    } else {
                        self.ssh.clone()
                    };
                    // Whatever the ssh command, the host is an operand.
                    launcher.push("--".into());
                    launcher.push(host.into());
                    let program = self
                        .worker_path
                        .clone()
                        .unwrap_or_else(|| PathBuf::from("mproc"));
                    WorkerCommand::program(program)
                        .with_launcher(launcher)
                        .on_host(host.clone())
                }
            };
            commands.extend(std::iter::repeat_n(command, slots.processes));
        }
        Ok(commands)
    }

    fn local(&self) -> Result<WorkerCommand> {
        if self.launcher.is_empty() && self.worker_path.is_none() {
            return WorkerCommand::current_exe();
        }
        Ok(WorkerCommand::program(self.worker_program()?)
            .with_launcher(launcher_words(&self.launcher)))
    }

    /// The worker binary behind a launcher: `--worker-path`, else this
    /// executable's real path (/proc/self/exe would name the launcher's own
    /// process).
    fn worker_program(&self) -> Result<PathBuf> {
        match &self.worker_path {
            Some(p) => Ok(p.clone()),
            None => std::env::current_exe()
                .map_err(|e| Error::io("cannot find this executable for a launcher", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(host: Option<&str>, processes: usize) -> HostSlots {
        HostSlots {
            host: host.map(str::to_string),
            processes,
        }
    }

    #[test]
    fn host_lists_parse_like_gnu_parallel() {
        assert_eq!(
            parse_hosts("node1:4, node2:8,:2,4/node3,solo").unwrap(),
            vec![
                slots(Some("node1"), 4),
                slots(Some("node2"), 8),
                slots(None, 2),
                slots(Some("node3"), 4),
                slots(Some("solo"), 1)
            ]
        );
        assert_eq!(
            parse_hosts("user@h:2").unwrap(),
            vec![slots(Some("user@h"), 2)]
        );
        for bad in ["h:0", "h:x", "", "a b:2", "h:99999999999", "@h:1", "u@:1"] {
            assert!(parse_hosts(bad).is_err(), "{bad}");
        }
        for option in ["-oProxyCommand=touch${IFS}x:1", "-p22", "-u@h", "u@-oX=y:2"] {
            let e = parse_hosts(option).unwrap_err();
            assert!(e.to_string().contains("starts with '-'"), "{option}: {e}");
        }
    }

    #[test]
    fn each_slot_gets_its_command() {
        let placement = Placement {
            hosts: parse_hosts("far:2,:1").unwrap(),
            ssh: split_command("--ssh", "ssh -T -p 2222").unwrap(),
            worker_path: Some("/opt/mproc".into()),
            ..Placement::default()
        };
        let commands = placement.commands(0).unwrap();
        assert_eq!(commands.len(), 3);
        assert_eq!(commands[0].host(), Some("far"));
        assert_eq!(commands[0].describe(), "worker on far");
        let words = format!("{:?}", commands[0]);
        assert!(words.contains(r#""--", "far""#), "{words}");
        assert_eq!(commands[2].host(), None);
        assert!(split_command("--launcher", "a 'b").is_err());
        let srun = |s| srun_without_unbuffered(&split_command("--launcher", s).unwrap());
        assert!(srun("srun -N1 -n1 --quiet"));
        assert!(srun("/usr/bin/srun -n1"));
        assert!(!srun("srun -N1 -n1 --quiet --unbuffered"));
        assert!(!srun("srun -u -n1"));
        assert!(!srun("ssh -T host"));
        let typed = |s| launcher_words(&split_command("--launcher", s).unwrap());
        assert_eq!(
            typed("srun -N1 -n1"),
            ["srun", "--unbuffered", "-N1", "-n1"]
        );
        assert_eq!(typed("/usr/bin/srun"), ["/usr/bin/srun", "--unbuffered"]);
        assert_eq!(typed("srun -u -n1"), ["srun", "-u", "-n1"]);
        assert_eq!(typed("ssh -T h"), ["ssh", "-T", "h"]);
    }
}
