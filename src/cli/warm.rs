//! The guess that starts a pool's workers before the command line is
//! parsed (see `mproc::warm`): parsing takes about as long as a worker's
//! exec, so the two overlap.
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

/// How many local workers `args` (the whole command line) will likely
/// start: `mproc [FLAGS] pool ...` with `-n N`, or the usable CPUs without
/// it; `None` for anything else.
pub(crate) fn workers(args: &[OsString]) -> Option<usize> {
    let words: Vec<&str> = args
        .iter()
        .skip(1)
        .map_while(|a| a.to_str())
        .take_while(|w| *w != "--")
        .collect();
    if words.iter().find(|w| !w.starts_with('-')) != Some(&"pool") {
        return None;
    }
    let names = |w: &str, flag: &str| w == flag || w.starts_with(&format!("{flag}="));
    if words.iter().any(|w| NOT_LOCAL.iter().any(|f| names(w, f))) {
        return None;
    }
    let mut processes = None;
    for (i, word) in words.iter().enumerate() {
        let value = if PROCESSES.contains(word) {
            words.get(i + 1).copied()
        } else {
            PROCESSES.iter().find_map(|flag| {
                let rest = word.strip_prefix(flag)?;
                match rest.strip_prefix('=') {
                    Some(value) => Some(value),
                    // `-n2`, not `--processes2`.
                    None if flag.len() == 2 && !rest.is_empty() => Some(rest),
                    None => None,
                }
            })
        };
        if let Some(value) = value {
            processes = Some(value.parse::<usize>().ok().filter(|&n| n > 0)?);
        }
    }
    Some(processes.unwrap_or_else(mproc::cpu_count))
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
    fn anything_else_starts_nothing_ahead() {
        for line in [
            "mproc --version",
            "mproc cpu-count",
            "mproc run echo ::: pool",
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
