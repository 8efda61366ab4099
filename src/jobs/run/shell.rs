//! The shell that runs command lines: the one GNU parallel 20221122 would
//! use. `$PARALLEL_SHELL`, else the nearest ancestor process that is a
//! shell (its `argv[0]`, as GNU parallel's `parent_shell` reads
//! `/proc/PID/cmdline`), else `$SHELL`, else `/bin/sh`. Read once, in the
//! parent, before the pool starts.

use std::path::Path;

/// Every shell GNU parallel knows by name.
const SHELLS: &[&str] = &[
    "ash",
    "bash",
    "bsd-csh",
    "csh",
    "dash",
    "fdsh",
    "fish",
    "fizsh",
    "ksh",
    "ksh93",
    "lksh",
    "mksh",
    "pdksh",
    "posh",
    "rbash",
    "rc",
    "rush",
    "rzsh",
    "sash",
    "sh",
    "static-sh",
    "tcsh",
    "yash",
    "zsh",
];

/// The shell for command lines; see the module docs.
pub(super) fn which() -> String {
    if let Some(s) = std::env::var_os("PARALLEL_SHELL").filter(|s| !s.is_empty()) {
        return s.to_string_lossy().into_owned();
    }
    if let Some(s) = parent_shell() {
        return s;
    }
    match std::env::var_os("SHELL").filter(|s| !s.is_empty()) {
        Some(s) => s.to_string_lossy().into_owned(),
        None => "/bin/sh".into(),
    }
}

/// True for shells whose quoting is not the Bourne shell's (csh, tcsh,
/// rc): mproc quotes for Bourne shells only.
pub(super) fn foreign(shell: &str) -> bool {
    let name = shell.rsplit('/').next().unwrap_or(shell);
    matches!(name, "csh" | "tcsh" | "bsd-csh" | "rc")
}

/// The nearest ancestor that is a shell, as a path found on `PATH`.
fn parent_shell() -> Option<String> {
    let mut pid = std::process::id();
    // A loop in /proc is impossible, but a bound costs nothing.
    for _ in 0..256 {
        if pid == 0 {
            return None;
        }
        if let Some(name) = shell_name(pid) {
            return on_path(&name);
        }
        pid = parent_of(pid)?;
    }
    None
}

/// The shell `pid` runs, from its `argv[0]`: `bash`, `/bin/bash`,
/// `-bash` (a login shell), `[bash]`, `busybox sh`.
fn shell_name(pid: u32) -> Option<String> {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let argv0 = cmdline.split(|&b| b == 0).next()?;
    let argv0 = String::from_utf8_lossy(argv0);
    let word = argv0
        .strip_prefix('[')
        .and_then(|w| w.strip_suffix(']'))
        .or_else(|| argv0.strip_prefix("busybox "))
        .unwrap_or(&argv0);
    let word = word.trim_end_matches(' ');
    let base = word.rsplit('/').next()?;
    let base = base.strip_prefix('-').unwrap_or(base);
    if word.contains(' ') || !SHELLS.contains(&base) {
        return None;
    }
    if word.starts_with('-') && base == "sh" {
        if let Ok(exe) = std::fs::read_link(format!("/proc/{pid}/exe")) {
            return Some(exe.to_string_lossy().into_owned());
        }
    }
    Some(base.to_string())
}

/// `pid`'s parent, from `/proc/PID/stat` (the field after the name,
/// which ends with the last `)`).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(1)?.parse().ok()
}

/// `name` as a path: itself when it has a `/`, else the first executable
/// of that name on `PATH`.
fn on_path(name: &str) -> Option<String> {
    if name.contains('/') {
        return Some(name.to_string());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| executable(p))
        .map(|p| p.to_string_lossy().into_owned())
}

/// True when `p` is an executable file.
pub(super) fn executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// True when `program` is an executable: a path, or a name on `PATH`.
pub(super) fn is_program(program: &[u8]) -> bool {
    let program = String::from_utf8_lossy(program);
    if program.contains('/') {
        return executable(Path::new(&*program));
    }
    on_path(&program).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_finds_a_shell_and_names_it() {
        assert!(!which().is_empty());
        assert!(foreign("/bin/tcsh") && foreign("rc") && !foreign("/usr/bin/bash"));
        assert_eq!(
            parent_of(std::process::id()),
            Some(std::os::unix::process::parent_id())
        );
    }
}
