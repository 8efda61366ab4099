//! How many CPUs this process may use: [`cpu_count`] and [`CpuInfo`].
//!
//! Python's `os.cpu_count()` counts every logical CPU of the machine, even
//! when the process is pinned to fewer or limited by a container's quota.
//! mproc takes the smallest of: logical CPUs, the affinity mask, and the
//! cgroup (v2 or v1) CPU quota rounded up; `MPROC_CPU_COUNT` overrides all.

use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};

/// The environment variable that overrides the usable CPU count.
pub const CPU_COUNT_ENV: &str = "MPROC_CPU_COUNT";

/// Which source decided the usable CPU count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CpuSource {
    /// The number of logical CPUs.
    Logical,
    /// The scheduler affinity mask.
    Affinity,
    /// A cgroup CPU quota.
    Quota,
    /// The `MPROC_CPU_COUNT` variable.
    Override,
}

/// Every number that goes into the usable CPU count.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct CpuInfo {
    /// Logical CPUs online (what Python's `os.cpu_count()` says).
    pub logical: usize,
    /// Physical cores, when known.
    pub physical: Option<usize>,
    /// CPUs in this process's affinity mask.
    pub affinity: Option<usize>,
    /// The cgroup CPU quota in CPUs (e.g. 1.5), when one is set.
    pub quota: Option<f64>,
    /// The value of `MPROC_CPU_COUNT`, when set.
    #[serde(rename = "override")]
    pub override_count: Option<usize>,
    /// The count mproc uses.
    pub usable: usize,
    /// Which of the above decided `usable`.
    pub decided_by: CpuSource,
}

/// The usable CPU count (at least 1). An invalid `MPROC_CPU_COUNT` is
/// ignored here with a warning; [`cpu_info`] reports it as an error.
pub fn cpu_count() -> usize {
    match cpu_info() {
        Ok(info) => info.usable,
        Err(e) => {
            tracing::warn!("{e}");
            decide(
                logical_cpus(),
                None,
                affinity_cpus(),
                cgroup_quota(Path::new("/")),
                None,
            )
            .usable
        }
    }
}

/// Gathers every source and decides the usable count.
pub fn cpu_info() -> Result<CpuInfo> {
    let override_count = match std::env::var(CPU_COUNT_ENV) {
        Ok(v) => Some(parse_override(&v)?),
        Err(_) => None,
    };
    Ok(decide(
        logical_cpus(),
        physical_cores(),
        affinity_cpus(),
        cgroup_quota(Path::new("/")),
        override_count,
    ))
}

fn parse_override(v: &str) -> Result<usize> {
    match v.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(Error::usage(format!(
            "invalid {CPU_COUNT_ENV} '{v}': expected a whole number of at least 1"
        ))),
    }
}

fn decide(
    logical: usize,
    physical: Option<usize>,
    affinity: Option<usize>,
    quota: Option<f64>,
    override_count: Option<usize>,
) -> CpuInfo {
    let mut usable = logical.max(1);
    let mut decided_by = CpuSource::Logical;
    if let Some(a) = affinity.filter(|&a| a > 0 && a < usable) {
        usable = a;
        decided_by = CpuSource::Affinity;
    }
    if let Some(q) = quota {
        let q = (q.ceil() as usize).max(1);
        if q < usable {
            usable = q;
            decided_by = CpuSource::Quota;
        }
    }
    if let Some(o) = override_count {
        usable = o;
        decided_by = CpuSource::Override;
    }
    CpuInfo {
        logical,
        physical,
        affinity,
        quota,
        override_count,
        usable,
        decided_by,
    }
}

/// Online logical CPUs, as Python's `os.cpu_count()` gives them.
fn logical_cpus() -> usize {
    std::fs::read_to_string("/sys/devices/system/cpu/online")
        .ok()
        .and_then(|list| count_cpu_list(list.trim()))
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The CPUs in a kernel CPU list such as `0-3,8,10-11`.
fn count_cpu_list(list: &str) -> Option<usize> {
    let mut n = 0usize;
    for part in list.split(',').filter(|p| !p.is_empty()) {
        n += match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (a.parse::<usize>().ok()?, b.parse::<usize>().ok()?);
                b.checked_sub(a)? + 1
            }
            None => part.parse::<usize>().map(|_| 1).ok()?,
        };
    }
    Some(n)
}

/// Distinct (package, core) pairs in the kernel's CPU topology.
fn physical_cores() -> Option<usize> {
    let mut cores = std::collections::HashSet::new();
    for entry in std::fs::read_dir("/sys/devices/system/cpu").ok()?.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let numbered = name.strip_prefix("cpu").map(str::parse::<u32>);
        if !matches!(numbered, Some(Ok(_))) {
            continue;
        }
        let topology = entry.path().join("topology");
        let read = |f: &str| std::fs::read_to_string(topology.join(f)).ok();
        if let (Some(package), Some(core)) = (read("physical_package_id"), read("core_id")) {
            cores.insert((package.trim().to_string(), core.trim().to_string()));
        }
    }
    (!cores.is_empty()).then_some(cores.len())
}

fn affinity_cpus() -> Option<usize> {
    let set = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0)).ok()?;
    let n = (0..nix::sched::CpuSet::count())
        .filter(|&i| set.is_set(i).unwrap_or(false))
        .count();
    Some(n)
}

/// The tightest CPU quota of this process's cgroup and its ancestors, under
/// `root` (normally `/`; tests pass a fake tree).
fn cgroup_quota(root: &Path) -> Option<f64> {
    let cgroups = std::fs::read_to_string(root.join("proc/self/cgroup")).ok()?;
    let mut best: Option<f64> = None;
    let mut take = |q: Option<f64>| {
        if let Some(q) = q {
            best = Some(best.map_or(q, |b: f64| b.min(q)));
        }
    };
    for line in cgroups.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let path = path.trim_start_matches('/');
        if controllers.is_empty() {
            // cgroup v2: cpu.max is "max 100000" or "QUOTA PERIOD".
            for dir in ancestors(&root.join("sys/fs/cgroup"), path) {
                take(read_v2(&dir.join("cpu.max")));
            }
        } else if controllers.split(',').any(|c| c == "cpu") {
            for base in ["sys/fs/cgroup/cpu,cpuacct", "sys/fs/cgroup/cpu"] {
                for dir in ancestors(&root.join(base), path) {
                    take(read_v1(&dir));
                }
            }
        }
    }
    best
}

fn ancestors(base: &Path, path: &str) -> Vec<std::path::PathBuf> {
    let mut dirs = vec![base.to_path_buf()];
    let mut dir = base.to_path_buf();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        dir.push(part);
        dirs.push(dir.clone());
    }
    dirs
}

fn read_v2(file: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(file).ok()?;
    let mut it = text.split_whitespace();
    let quota = it.next()?;
    let period: f64 = it.next()?.parse().ok()?;
    if quota == "max" || period <= 0.0 {
        return None;
    }
    Some(quota.parse::<f64>().ok()? / period)
}

fn read_v1(dir: &Path) -> Option<f64> {
    let quota: f64 = std::fs::read_to_string(dir.join("cpu.cfs_quota_us"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let period: f64 = std::fs::read_to_string(dir.join("cpu.cfs_period_us"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (quota > 0.0 && period > 0.0).then(|| quota / period)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smallest_source_decides() {
        let i = decide(8, Some(4), Some(3), Some(1.5), None);
        assert_eq!((i.usable, i.decided_by), (2, CpuSource::Quota));
        let i = decide(8, None, Some(3), None, None);
        assert_eq!((i.usable, i.decided_by), (3, CpuSource::Affinity));
        let i = decide(8, None, Some(8), None, None);
        assert_eq!((i.usable, i.decided_by), (8, CpuSource::Logical));
        let i = decide(2, None, Some(2), Some(0.2), Some(16));
        assert_eq!((i.usable, i.decided_by), (16, CpuSource::Override));
        let i = decide(2, None, None, Some(0.2), None);
        assert_eq!(i.usable, 1);
    }

    #[test]
    fn override_must_be_positive() {
        assert_eq!(parse_override(" 3 ").unwrap(), 3);
        for bad in ["0", "-1", "two", ""] {
            let e = parse_override(bad).unwrap_err();
            assert!(e.message().contains(CPU_COUNT_ENV), "{e}");
        }
    }

    #[test]
    fn cgroup_v2_and_v1_quotas_are_read_from_the_tree() {
        let root = std::env::temp_dir().join(format!("mproc-cgroup-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("proc/self")).unwrap();
        std::fs::create_dir_all(root.join("sys/fs/cgroup/app/job")).unwrap();
        std::fs::write(root.join("proc/self/cgroup"), "0::/app/job\n").unwrap();
        std::fs::write(root.join("sys/fs/cgroup/app/cpu.max"), "150000 100000\n").unwrap();
        std::fs::write(root.join("sys/fs/cgroup/app/job/cpu.max"), "max 100000\n").unwrap();
        assert_eq!(cgroup_quota(&root), Some(1.5));

        std::fs::write(root.join("proc/self/cgroup"), "4:cpu,cpuacct:/box\n").unwrap();
        let v1 = root.join("sys/fs/cgroup/cpu,cpuacct/box");
        std::fs::create_dir_all(&v1).unwrap();
        std::fs::write(v1.join("cpu.cfs_quota_us"), "50000\n").unwrap();
        std::fs::write(v1.join("cpu.cfs_period_us"), "100000\n").unwrap();
        assert_eq!(cgroup_quota(&root), Some(0.5));
        std::fs::write(v1.join("cpu.cfs_quota_us"), "-1\n").unwrap();
        assert_eq!(cgroup_quota(&root), None);
        let _ = std::fs::remove_dir_all(&root);
    }
}
