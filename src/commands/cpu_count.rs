//! `mproc cpu-count`: the usable CPU count, and with `-v` every source;
//! and the same refusal of an invalid `MPROC_CPU_COUNT` for pool commands.

use std::fmt::Write as _;

use super::Status;
use crate::report::Stdout;
use mproc::cpu_info;
use mproc::Result;

/// Refuses an invalid `MPROC_CPU_COUNT` (exit 2, one line, as `cpu-count`
/// does) when a pool would size itself by it: no `-n`, no hosts.
pub(super) fn check_override(settings: &mproc::PoolSettings) -> Result<()> {
    let consulted = settings.processes.is_none() && settings.placement.hosts.is_empty();
    if consulted && std::env::var_os(mproc::CPU_COUNT_ENV).is_some() {
        cpu_info()?;
    }
    Ok(())
}

pub(super) fn run(verbose: bool, json: bool) -> Result<Status> {
    let info = cpu_info()?;
    let mut out = Stdout::default();
    if json {
        let value = serde_json::to_value(&info).map_err(|e| mproc::Error::usage(e.to_string()))?;
        out.json_line(&value);
    } else if verbose {
        let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
        let mut s = String::new();
        let _ = writeln!(s, "usable:     {}", info.usable);
        let _ = writeln!(
            s,
            "decided by: {}",
            serde_json::to_value(info.decided_by)
                .unwrap_or_default()
                .as_str()
                .unwrap_or("?")
        );
        let _ = writeln!(s, "logical:    {}", info.logical);
        let _ = writeln!(
            s,
            "physical:   {}",
            opt(info.physical.map(|v| v.to_string()))
        );
        let _ = writeln!(
            s,
            "affinity:   {}",
            opt(info.affinity.map(|v| v.to_string()))
        );
        let _ = writeln!(
            s,
            "quota:      {}",
            opt(info.quota.map(|v| format!("{v:.2}")))
        );
        let _ = writeln!(
            s,
            "override:   {}",
            opt(info.override_count.map(|v| v.to_string()))
        );
        out.print(&s);
    } else {
        out.print(&format!("{}\n", info.usable));
    }
    out.finish()?;
    Ok(Status::OK)
}
