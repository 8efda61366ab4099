//! GNU parallel 20221122's options that `mproc run` does not take, each
//! with the one line that names the mproc way. The command line looks an
//! unknown flag up here ([`refusal`]) before it gives clap's error, so a
//! GNU parallel user learns what to type instead.

/// Each GNU spelling and what to do in mproc instead.
const REFUSED: &[(&[&str], &str)] = &[
    (
        &[
            "--pipe",
            "--spreadstdin",
            "--pipe-part",
            "--pipepart",
            "--block",
            "--block-size",
            "--recstart",
            "--recend",
            "--round-robin",
            "--round",
            "--shard",
            "--bin",
            "--group-by",
            "--cat",
            "--fifo",
            "--regexp",
            "--remove-rec-sep",
            "--removerecsep",
            "--rrs",
            "--block-timeout",
            "--bt",
            "--tee",
        ],
        "is GNU parallel's --pipe family: mproc run gives each job arguments, not stdin; split \
      the input into files first (split -l N) and run mproc run CMD ::: the files",
    ),
    (
        &[
            "-S",
            "--sshlogin",
            "--slf",
            "--sshloginfile",
            "--trc",
            "--transfer",
            "--transferfile",
            "--tf",
            "--return",
            "--cleanup",
            "--basefile",
            "--bf",
            "--onall",
            "--nonall",
            "--controlmaster",
            "-M",
            "--filter-hosts",
            "--ssh-delay",
            "--hostgroups",
            "--hgrp",
            "--workdir",
            "--wd",
            "--rsync-opts",
            "--env",
            "--record-env",
        ],
        "is GNU parallel's remote execution: use mproc's --hosts host1:4,host2:8 (or --hostfile \
      FILE) with mproc on each host; files are not transferred",
    ),
    (
        &[
            "-u",
            "--ungroup",
            "--line-buffer",
            "--lb",
            "--latest-line",
            "--ll",
        ],
        "asks for output as it is written; mproc run prints each job's output whole when it \
      ends (GNU's default --group); write progress to stderr with --pass-stderr to see it live",
    ),
    (
        &["-t", "--verbose"],
        "prints commands on stderr; mproc run -v prints them on stdout before each \
      job's output (as GNU's -v)",
    ),
    (
        &["--delay", "--ssh-delay"],
        "spaces out job starts, which mproc run does not do: \
      start fewer at once with -j, or sleep in the command (mproc run 'sleep 1; CMD {}')",
    ),
    (
        &[
            "-p",
            "--interactive",
            "-o",
            "--open-tty",
            "--tty",
            "--tmux",
            "--tmuxpane",
            "--fg",
            "--bg",
            "--semaphore",
            "--semaphorename",
            "--semaphore-name",
            "--id",
            "--semaphoretimeout",
            "--semaphore-timeout",
            "--st",
            "--wait",
        ],
        "needs a terminal or a semaphore; mproc run's commands get /dev/null as stdin: run \
      interactive commands yourself",
    ),
    (
        &[
            "-i",
            "--replace",
            "-E",
            "--eof",
            "-e",
            "-L",
            "-l",
            "--max-lines",
            "-s",
            "--max-chars",
            "-x",
            "--exit",
            "--xargs",
            "--show-limits",
        ],
        "is one of GNU parallel's xargs compatibility options; use -I STR for a replace \
      string, -N/-n for arguments per command, -X/-m for as many as fit",
    ),
    (
        &[
            "--plus",
            "--rpl",
            "--parens",
            "--er",
            "--extensionreplace",
            "--bnr",
            "--basenamereplace",
            "--dnr",
            "--dirnamereplace",
            "--bner",
            "--basenameextensionreplace",
            "--seqreplace",
            "--slotreplace",
            "-U",
        ],
        "defines replacement strings; mproc run knows {} {.} {/} {//} {/.} {#} and {n} {-n} \
      {n.} {n/} {n//} {n/.}, and -I STR for {}",
    ),
    (
        &[
            "--results",
            "--res",
            "--files",
            "--output-as-files",
            "--outputasfiles",
            "--compress",
            "--compress-program",
            "--decompress-program",
            "--tmpdir",
            "--csv",
            "--sql",
            "--sql-master",
            "--sqlmaster",
            "--sql-and-worker",
            "--sqlandworker",
            "--sql-worker",
            "--sqlworker",
        ],
        "stores output in files or a database in GNU's way; mproc run's --results DIR writes \
      GNU's layout of folders, and --json/--jsonl give each job's output as JSON",
    ),
    (
        &[
            "--load",
            "--memfree",
            "--memsuspend",
            "--noswap",
            "--limit",
            "--nice",
            "--number-of-cpus",
            "--number-of-cores",
            "--number-of-sockets",
            "--number-of-threads",
            "--use-cores-instead-of-threads",
            "--use-sockets-instead-of-threads",
            "--use-cpus-instead-of-cores",
            "--retry-failed",
            "--total-jobs",
            "--total",
            "--termseq",
            "--term-seq",
            "--process-slot-var",
            "--shebang",
            "--hashbang",
            "--shebang-wrap",
            "--embed",
            "--shell-completion",
            "--shell-quote",
            "--citation",
            "--will-cite",
            "--bibtex",
            "--no-notice",
            "--minversion",
            "--max-line-length-allowed",
            "--profile",
            "-J",
            "--arg-sep",
            "--argsep",
            "--arg-file-sep",
            "--argfilesep",
            "--skip-first-line",
            "--trim",
            "--color",
            "--ctag",
            "--ctagstring",
            "--color-failed",
            "--cf",
            "--template",
            "--tmpl",
            "--plain",
            "--gnu",
            "--tollef",
            "--silent",
            "--group",
            "--no-keep-order",
            "--keeporder",
            "--open-tty",
            "--_parset",
            "--session",
            "--filter",
            "--unsafe",
            "--sqlworker",
        ],
        "is not supported by mproc run (see docs/RUN.md for the table of GNU parallel's \
      options and the mproc way)",
    ),
];

/// The one-line refusal for `flag` (`--pipe`, `-S`; any `=value`
/// ignored), if it is one of GNU parallel's.
pub(crate) fn refusal(flag: &str) -> Option<String> {
    let name = flag.split('=').next().unwrap_or(flag);
    REFUSED
        .iter()
        .find(|(names, _)| names.contains(&name))
        .map(|(_, why)| format!("{name} {why}"))
}

#[cfg(test)]
mod tests {
    use super::refusal;

    #[test]
    fn gnu_flags_are_refused_with_the_mproc_way() {
        assert!(refusal("--pipe").unwrap().contains("split"));
        assert!(refusal("--delay=1").unwrap().starts_with("--delay "));
        assert!(refusal("-u").unwrap().contains("--pass-stderr"));
        assert!(refusal("--no-such-flag").is_none());
    }
}
