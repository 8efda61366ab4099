//! What GNU parallel's options do to one job, in the worker: `--dry-run`
//! (the line instead of the run), `--timeout` (the command behind
//! coreutils' `timeout`, which ends its whole process group and keeps
//! what it wrote), `-v` (the line before the output), `--tag` and
//! `--tagstring` (each output line prefixed), and `--results DIR` in GNU
//! parallel's layout (`DIR/1/<arg>/stdout`, `stderr`, `seq`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::child::Captured;
use super::line::{Nums, Template};
use super::{RunInput, RunOutput};

/// The exit status of coreutils' `timeout` when the time ran out.
const TIMED_OUT: i32 = 124;

/// GNU parallel's options as each job needs them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct GnuJob {
    /// `-v`: the command line first.
    pub verbose: bool,
    /// `--tag`/`--tagstring`: the tag's template (empty: the arguments).
    pub tag: Option<Option<Template>>,
    /// `--dry-run`
    pub dry_run: bool,
    /// `--timeout`
    pub timeout: Option<Duration>,
    /// `--header` names, for `--results` folders.
    pub header: Vec<Vec<u8>>,
    /// `--results` in GNU parallel's layout (else mproc's `DIR/<seq>/`).
    pub gnu_results: bool,
    /// Job slots (`{%}` is one of 1..=slots): jobs at once in the pool.
    pub slots: u64,
}

/// A job slot held while its job runs (a lock on a file in the
/// parent's spool folder, which ends with the process that holds it).
pub(super) struct Slot(#[allow(dead_code)] Option<nix::fcntl::Flock<std::fs::File>>);

impl GnuJob {
    /// `--dry-run`: the output the job has instead of running.
    pub(super) fn dry_run(
        &self,
        template: &Template,
        input: &RunInput,
        n: Nums,
    ) -> Option<RunOutput> {
        if !self.dry_run {
            return None;
        }
        let mut line = template.line(&input.args, n);
        line.push(b'\n');
        Some(RunOutput {
            exit_code: Some(0),
            stdout: Captured::in_memory(line),
            ..RunOutput::default()
        })
    }

    /// The job's numbers: its `{#}`, and when the line names `{%}` a free
    /// job slot, held until the returned [`Slot`] is dropped. Slots are
    /// locks on files `slot-N` in the spool folder, so the workers of one
    /// run share them; a host without that folder cannot give `{%}`.
    pub(super) fn slot(
        &self,
        template: &Template,
        input: &RunInput,
        spool: Option<&Path>,
    ) -> Result<(Nums, Slot), String> {
        let mut nums = Nums {
            seq: input.seq,
            slot: 0,
        };
        if !template.uses_slot() || self.dry_run && spool.is_none() {
            return Ok((nums, Slot(None)));
        }
        let Some(dir) = spool else {
            return Err("{%} needs mproc's spool folder on this host (a shared /tmp)".into());
        };
        use nix::fcntl::{Flock, FlockArg};
        // More slots than jobs at once can only be needed for a moment,
        // between one job's end and its lock's release.
        for n in 1..=self.slots.max(1) * 2 {
            let path = dir.join(format!("slot-{n}"));
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(|e| format!("cannot open job slot {}: {e}", path.display()))?;
            if let Ok(lock) = Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                nums.slot = n;
                return Ok((nums, Slot(Some(lock))));
            }
        }
        Err(format!("no free job slot among {}", self.slots.max(1) * 2))
    }

    /// The argv behind `timeout` when there is a time limit: TERM at the
    /// limit to the whole group, KILL 0.35 s later (GNU parallel's
    /// default `--termseq` takes that long).
    pub(super) fn wrap(&self, argv: Vec<OsString>) -> Vec<OsString> {
        let Some(limit) = self.timeout else {
            return argv;
        };
        let mut wrapped: Vec<OsString> = vec![
            "timeout".into(),
            "-k".into(),
            "0.35".into(),
            format!("{:.3}", limit.as_secs_f64()).into(),
        ];
        wrapped.extend(argv);
        wrapped
    }

    /// True when a job that ended with `code` ran out of time.
    pub(super) fn timed_out(&self, code: i32) -> bool {
        self.timeout.is_some() && (code == TIMED_OUT || code == 128 + 9)
    }

    /// `-v`, `--tag`: the output as GNU parallel prints it.
    pub(super) fn decorate(
        &self,
        template: &Template,
        input: &RunInput,
        n: Nums,
        output: &mut RunOutput,
    ) {
        if self.verbose {
            let mut line = template.line(&input.args, n);
            line.push(b'\n');
            let mut head = line;
            head.extend(output.stdout.head(usize::MAX));
            output.stdout.release();
            output.stdout = Captured::in_memory(head);
        }
        // The -v line is tagged too, as GNU parallel tags it.
        if let Some(tag) = &self.tag {
            let mut prefix = match tag {
                Some(t) => t.words_only(&input.args, n),
                None => input.args.join(&b' '),
            };
            prefix.push(b'\t');
            tag_lines(&mut output.stdout, &prefix);
            tag_lines(&mut output.stderr, &prefix);
        }
    }

    /// After `--results`: GNU parallel prints nothing more of the job.
    pub(super) fn results_written(&self, output: &mut RunOutput) {
        if self.gnu_results {
            for c in [&mut output.stdout, &mut output.stderr] {
                c.release();
                c.len = 0;
            }
        }
    }

    /// The folder `--results dir` keeps this job's files in.
    pub(super) fn results_dir(&self, dir: &Path, input: &RunInput) -> PathBuf {
        if !self.gnu_results {
            return dir.join(input.seq.to_string());
        }
        let mut named: Vec<(String, String)> = input
            .args
            .iter()
            .enumerate()
            .map(|(i, arg)| {
                let name = match self.header.get(i) {
                    Some(h) => folder_name(h),
                    None => (i + 1).to_string(),
                };
                (name, folder_name(arg))
            })
            .collect();
        // GNU parallel orders them by name: numbers first, by value.
        named.sort_by_key(|(name, _)| (leading_number(name), name.clone()));
        let mut path = dir.to_path_buf();
        for (name, value) in named {
            path.push(name);
            path.push(value);
        }
        path
    }
}

/// The number a name starts with (0 for none), as Perl's `<=>` reads it.
fn leading_number(name: &str) -> u64 {
    let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or(0)
}

/// A value as one folder name, as GNU parallel writes it (`\` as `\\`,
/// a tab as `\t`, NUL as `\0`, `/` as `\_`), and, unlike GNU parallel,
/// never `.`, `..` or empty (written `\.`, `\.\.`, `\e`), so no input
/// names a folder outside DIR; at most 255 bytes.
fn folder_name(value: &[u8]) -> String {
    let text = String::from_utf8_lossy(value);
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            '/' => out.push_str("\\_"),
            c => out.push(c),
        }
    }
    let out = match out.as_str() {
        "" => "\\e".to_string(),
        "." => "\\.".to_string(),
        ".." => "\\.\\.".to_string(),
        _ => out,
    };
    let mut end = out.len().min(255);
    while !out.is_char_boundary(end) {
        end -= 1;
    }
    out[..end].to_string()
}

/// Each line of `c` with `prefix` in front (a last line without a
/// newline too).
fn tag_lines(c: &mut Captured, prefix: &[u8]) {
    if c.len == 0 {
        return;
    }
    let all = c.head(usize::MAX);
    let mut out = Vec::with_capacity(all.len() + prefix.len());
    for line in all.split_inclusive(|&b| b == b'\n') {
        out.extend_from_slice(prefix);
        out.extend_from_slice(line);
    }
    c.release();
    *c = Captured::in_memory(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_stay_inside_and_follow_gnu() {
        assert_eq!(folder_name(b"a/b"), "a\\_b");
        assert_eq!(folder_name(b".."), "\\.\\.");
        assert_eq!(folder_name(b""), "\\e");
        assert_eq!(folder_name(b"c d"), "c d");
        assert_eq!(folder_name("é".repeat(200).as_bytes()).len(), 254);
    }

    #[test]
    fn lines_are_tagged() {
        let mut c = Captured::in_memory(b"a\nb".to_vec());
        tag_lines(&mut c, b"x\t");
        assert_eq!(c.bytes, b"x\ta\nx\tb");
    }
}
