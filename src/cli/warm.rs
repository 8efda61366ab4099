//! The guess that starts a pool's workers (`mproc pool`, `mproc run`)
//! before the command line is parsed (see `mproc::warm`): parsing takes
//! about as long as a worker's exec, so the two overlap.
//!
//! It reads the words alone and decides nothing: the parsed command line
//! does. A wrong guess costs the workers' start; those no pool takes are
//! stopped when the run ends.

use std::ffi::OsString;

/// Words after which the pool's workers are not local workers of this
/// program, or no pool starts at all.
const NOT_LOCAL: [&str; 11] = [
    "--serial",
    "--hosts",
    "--hostfile",
    "--slurm",
    "--launcher",
    "--worker-path",
    "--ssh",
    "--help",
    "-h",
    "--version",
    "-V",
];

/// The flags that set a pool's worker count (`-n`, and its aliases).
const PROCESSES: [&str; 4] = ["-n", "-j", "--processes", "--jobs"];

/// The flags that set `mproc run`'s worker count: GNU parallel's `-j`
/// (`-n` is its count of inputs per command there).
const RUN_PROCESSES: [&str; 3] = ["-j", "--jobs", "--processes"];

/// How many local workers `args` (the whole command line) will likely
/// start: `mproc [FLAGS] pool ...` with `-n N`, `mproc [FLAGS] run ...`
/// with GNU parallel's `-j N` (or `N%`, `+N`, `-N`, `0`), or the usable
/// CPUs without them; `None` for anything else.
pub(crate) fn workers(args: &[OsString]) -> Option<usize> {
    let words: Vec<&str> = args
        .iter()
        .skip(1)
        .map_while(|a| a.to_str())
        .take_while(|w| !["--", ":::", "::::", ":::+", "::::+"].contains(w))
        .collect();
    // `--hosts` or `--hosts=...`, without a string made per word.
    let names = |w: &str, flag: &str| {
        w.strip_prefix(flag)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('='))
    };
    if words.iter().any(|w| NOT_LOCAL.iter().any(|f| names(w, f))) {
        return None;
    }
    // The CPU count (files in /sys and the cgroup) is read only where the
    // guess needs it.
    match words.iter().find(|w| !w.starts_with('-')) {
        Some(&"pool") => match value(&words, &PROCESSES)? {
            Some(n) => Some(n.parse::<usize>().ok().filter(|&n| n > 0)?),
            None => Some(mproc::cpu_count()),
        },
        Some(&"run") => match value(&words, &RUN_PROCESSES)? {
            Some(spec) => crate::jobs::run::gnu_args::jobs(spec, mproc::cpu_count()).ok(),
            None => Some(mproc::cpu_count()),
        },
        _ => None,
    }
}

/// The value the last of `flags` is given in `words` (`-n 2`, `-n2`,
/// `-n=2`, `--processes=2`): `Some(None)` when none is, `None` when one
/// has no value.
fn value<'a>(words: &[&'a str], flags: &[&str]) -> Option<Option<&'a str>> {
    let mut found = None;
    for (i, word) in words.iter().enumerate() {
        if flags.contains(word) {
            found = Some(*words.get(i + 1)?);
            continue;
        }
        for flag in flags {
            let Some(rest) = word.strip_prefix(flag) else {
                continue;
            };
            match rest.strip_prefix('=') {
                Some(value) => found = Some(value),
                // `-n2`, not `--processes2`.
                None if flag.len() == 2 && !rest.is_empty() => found = Some(rest),
                None => {}
            }
        }
    }
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guess(line: &str) -> Option<usize> {
        let args: Vec<OsString> = line.split(' ').map(OsString::from).collect();
        workers(&args)
    }

    #[test]
    fn a_pool_with_n_workers_is_guessed_from_its_words() {
        assert_eq!(guess("mproc -q pool -n 2 square 10"), Some(2));
        assert_eq!(guess("mproc pool -n3 square 10"), Some(3));
        assert_eq!(guess("mproc pool --processes=4 square 10"), Some(4));
        assert_eq!(guess("mproc pool square 10 --jobs 5"), Some(5));
        assert_eq!(guess("mproc pool -j=6 square 10"), Some(6));
        assert_eq!(guess("mproc pool square 10"), Some(mproc::cpu_count()));
    }

    #[test]
    fn a_run_counts_its_workers_as_gnu_parallel_does() {
        let cpus = mproc::cpu_count();
        assert_eq!(guess("mproc run -j 3 echo ::: a b"), Some(3));
        assert_eq!(guess("mproc run --jobs=+1 echo ::: a"), Some(cpus + 1));
        assert_eq!(guess("mproc run -j0 echo ::: a"), Some(256));
        // `-n` is the inputs per command there, and `:::` ends the flags.
        assert_eq!(guess("mproc run -n 2 echo ::: -j 9"), Some(cpus));
        assert_eq!(guess("mproc run -j x echo ::: a"), None);
    }

    #[test]
    fn anything_else_starts_nothing_ahead() {
        for line in [
            "mproc --version",
            "mproc cpu-count",
            "mproc fetch -n 2 http://127.0.0.1/",
            "mproc process",
            "mproc help pool",
            "mproc pool --help",
            "mproc pool -n 2 --serial square 10",
            "mproc pool --hosts a:2 square 10",
            "mproc pool --slurm square 10",
            "mproc pool --launcher=srun square 10",
            "mproc pool -n x square 10",
            "mproc pool -n 0 square 10",
            "mproc pool -n -1 square 10",
            "mproc pool -n 99999999999999999999999 square 10",
        ] {
            assert_eq!(guess(line), None, "{line}");
        }
    }

    #[test]
    fn words_after_a_double_dash_are_not_read() {
        assert_eq!(
            guess("mproc pool square 10 -- -n 7"),
            Some(mproc::cpu_count())
        );
    }
}
