//! Where workers run: host lists (`--hosts host1:4,host2:8,:2`,
//! `--hostfile FILE`) and the command each pool slot starts.
//!
//! A slot on this machine runs this executable, or, behind `--launcher`,
//! the worker path the launcher can reach. A slot on another host runs
//! `ssh -T HOST mproc worker` (the ssh command and the worker path are
//! settable). Everything else about a remote worker (the handshake, crashes,
//! timeouts) is the same as for a local one; this module only decides what
//! to execute.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::child::WorkerCommand;
use crate::error::{Error, Result};

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

/// Reads a host file: one entry per line as in `--hosts`, `#` comments.
pub fn read_hostfile(path: &Path) -> Result<Vec<HostSlots>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("cannot read --hostfile {}", path.display()), e))?;
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
    let host = host.trim();
    if host.contains(char::is_whitespace) {
        return Err(bad());
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

/// Where and how each pool slot's worker runs.
#[derive(Debug, Clone, Default)]
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
}

impl Placement {
    /// True when nothing asks for anything but local workers of this
    /// executable.
    pub fn is_local(&self) -> bool {
        self.launcher.is_empty()
            && self.worker_path.is_none()
            && self.hosts.iter().all(|h| h.host.is_none())
    }

    /// The command of every slot, for `processes` slots when no hosts
    /// are given.
    pub(crate) fn commands(&self, processes: usize) -> Result<Vec<WorkerCommand>> {
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
        // Behind a launcher, /proc/self/exe would name the launcher's own
        // process: pass the executable's real path.
        let program = match &self.worker_path {
            Some(p) => p.clone(),
            None => std::env::current_exe()
                .map_err(|e| Error::io("cannot find this executable for --launcher", e))?,
        };
        Ok(WorkerCommand::program(program).with_launcher(self.launcher.clone()))
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
        for bad in ["h:0", "h:x", "", "a b:2"] {
            assert!(parse_hosts(bad).is_err(), "{bad}");
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
        assert_eq!(commands[2].host(), None);
        assert!(split_command("--launcher", "a 'b").is_err());
    }
}
