//! Command lines as GNU parallel 20221122 builds them: a [`Template`] made
//! once from the command words, and the argv it gives for one job's
//! arguments.
//!
//! Replacement strings: `{}` the arguments, `{.}` without the extension,
//! `{/}` the basename, `{//}` the dirname, `{/.}` the basename without
//! extension, `{#}` the job's sequence number from 1; `{n}`, `{n.}`,
//! `{%}` the job slot, `{n}`, `{n.}`,
//! `{n/}`, `{n//}`, `{n/.}` the n-th argument (from the end with `-n`),
//! `{name}` a `--header` column. With none, the arguments are appended.
//! With several arguments per job (`-N`, `-m`, `-X`, several input
//! sources), `{}` is all of them, each quoted, joined by spaces; with `-X`
//! a word holding `{}` is repeated for each argument (context replace).
//!
//! The line is the words joined with spaces, each substituted argument
//! quoted as GNU parallel quotes it (`'a b'`, `'it'"'"'s'`), run by the
//! shell GNU parallel would use ([`super::shell`]). A line with no shell
//! syntax at all gives the same argv without a shell, so it is executed
//! directly, which saves one `exec` per job; `--no-shell` and `-q` always
//! do that. [`Template::line`] is the line as GNU parallel prints it (`-v`,
//! `--dry-run`, the job log). This module knows nothing of processes.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use serde::{Deserialize, Serialize};

/// What a replacement string does to one argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Repl {
    /// `{}`
    Whole,
    /// `{.}`
    NoExt,
    /// `{/}`
    Base,
    /// `{//}`
    Dir,
    /// `{/.}`
    BaseNoExt,
}

/// One part of a command word.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Piece {
    Text(Vec<u8>),
    /// A replacement string: of every argument (`None`), or of the n-th
    /// (from 1; negative from the end).
    Arg(Repl, Option<i64>),
    /// `{#}`
    Seq,
    /// `{%}`
    Slot,
}

/// The numbers a job's line may name: `{#}` and `{%}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Nums {
    /// `{#}`: the job's sequence number, from 1.
    pub seq: u64,
    /// `{%}`: the job slot it runs in, from 1 (0 when not known).
    pub slot: u64,
}

/// How the line runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum Exec {
    /// `SHELL -c LINE`.
    Shell(String),
    /// The words as argv (no shell syntax in them, or `--no-shell`).
    Direct,
    /// `-q`: the words as argv; shown quoted.
    Quoted,
}

/// What the template is made with besides the words.
#[derive(Debug, Clone, Default)]
pub(super) struct LineOptions {
    /// `--no-shell`
    pub no_shell: bool,
    /// `-q`
    pub quote: bool,
    /// `-X`: a word with `{}` repeats per argument.
    pub context: bool,
    /// `-I STR`: what stands for `{}`.
    pub replace: Option<Vec<u8>>,
    /// `--header` column names, in order.
    pub header: Vec<Vec<u8>>,
    /// The shell GNU parallel would use.
    pub shell: String,
}

/// The command words, parsed once; see the module docs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Template {
    words: Vec<Vec<Piece>>,
    exec: Exec,
    /// No replacement string: the arguments go last.
    append: bool,
    /// `-X`
    context: bool,
    /// No command: each job's arguments are its command line.
    raw: bool,
    /// A replacement string is (part of) the command itself (`{}`,
    /// `{2} x`, `my_{}`): GNU parallel then quotes no argument, so an
    /// input can be a command line.
    unquoted: bool,
}

/// Shell words that only a shell can run (keywords and builtins with no
/// program of the same name).
const SHELL_ONLY: &[&str] = &[
    "!", ".", ":", "[[", "{", "alias", "bg", "break", "case", "cd", "command", "continue", "eval",
    "exec", "exit", "export", "fg", "for", "function", "getopts", "hash", "if", "jobs", "let",
    "local", "read", "readonly", "return", "select", "set", "shift", "source", "times", "trap",
    "type", "ulimit", "umask", "unalias", "unset", "until", "wait", "while",
];

/// Bytes that mean something to a shell (or make a word more than one word).
const SHELL_SYNTAX: &[u8] = b"|&;<>()$`\\\"' \t\n*?[]#~=%!{}";

impl Template {
    /// Parses the command words; an unknown replacement string is refused
    /// with a message for the user. No words: each job's arguments are
    /// its command line (`mproc run ::: 'echo a' 'echo b'`).
    pub(super) fn parse(words: &[Vec<u8>], opts: &LineOptions) -> Result<Template, String> {
        refuse_perl(words)?;
        let raw = words.is_empty() || words.iter().all(|w| w.iter().all(u8::is_ascii_whitespace));
        let words = if raw {
            Vec::new()
        } else {
            words
                .iter()
                .map(|w| pieces(w, opts))
                .collect::<Result<Vec<_>, _>>()?
        };
        let append = !raw
            && !words
                .iter()
                .flatten()
                .any(|p| matches!(p, Piece::Arg(..) | Piece::Seq | Piece::Slot));
        let unquoted = !raw && names_the_command(&words);
        let exec = if opts.quote {
            Exec::Quoted
        } else if opts.no_shell {
            Exec::Direct
        } else if raw || unquoted || needs_shell(&words) {
            Exec::Shell(opts.shell.clone())
        } else {
            Exec::Direct
        };
        Ok(Template {
            words,
            exec,
            append,
            context: opts.context,
            raw,
            unquoted,
        })
    }

    /// True when the line names the job slot (`{%}`).
    pub(super) fn uses_slot(&self) -> bool {
        self.words.iter().flatten().any(|p| *p == Piece::Slot)
    }

    /// True when the line runs through a shell.
    pub(super) fn shell(&self) -> bool {
        matches!(self.exec, Exec::Shell(_))
    }

    /// The program the line starts (for "command not found" messages):
    /// the first word, up to any space in it.
    pub(super) fn program(&self, args: &[Vec<u8>], n: Nums) -> String {
        if !self.shell() && !self.raw {
            let first = self.words.first().map(|w| self.word_argv(w, args, n));
            let word = first.and_then(|w| w.into_iter().next()).unwrap_or_default();
            return String::from_utf8_lossy(&word).into_owned();
        }
        let line = self.line(args, n);
        let text = String::from_utf8_lossy(&line);
        text.split_whitespace().next().unwrap_or("").to_string()
    }

    /// The first word when it is plain text (to see whether it is a
    /// program on `PATH` or something only a shell knows).
    pub(super) fn first_word(&self) -> Option<&[u8]> {
        match self.words.first()?.as_slice() {
            [Piece::Text(t)] => Some(t),
            _ => None,
        }
    }

    /// Runs the line through `shell` from now on (a first word that is
    /// no program, such as an exported function).
    pub(super) fn use_shell(&mut self, shell: &str) {
        if self.exec == Exec::Direct {
            self.exec = Exec::Shell(shell.to_string());
        }
    }

    /// The command line as GNU parallel shows and runs it.
    pub(super) fn line(&self, args: &[Vec<u8>], n: Nums) -> Vec<u8> {
        if self.raw {
            return args.join(&b' ');
        }
        let mut line = Vec::new();
        for (i, word) in self.words.iter().enumerate() {
            if i > 0 {
                line.push(b' ');
            }
            if self.exec == Exec::Quoted {
                let argv = self.word_argv(word, args, n);
                let quoted: Vec<Vec<u8>> = argv.iter().map(|w| quote(w)).collect();
                line.extend(quoted.join(&b' '));
                continue;
            }
            self.shell_word(&mut line, word, args, n);
        }
        if self.append {
            for a in args {
                line.push(b' ');
                line.extend(quote(a));
            }
        }
        line
    }

    fn shell_word(&self, line: &mut Vec<u8>, word: &[Piece], args: &[Vec<u8>], n: Nums) {
        if self.context && has_all(word) && !args.is_empty() {
            for (k, a) in args.iter().enumerate() {
                if k > 0 {
                    line.push(b' ');
                }
                for piece in word {
                    match piece {
                        Piece::Arg(r, None) if self.unquoted => line.extend(apply(*r, a)),
                        Piece::Arg(r, None) => line.extend(quote(&apply(*r, a))),
                        p => piece_into(line, p, args, n, !self.unquoted),
                    }
                }
            }
            return;
        }
        for piece in word {
            piece_into(line, piece, args, n, !self.unquoted);
        }
    }

    /// The words with the arguments substituted, unquoted, joined by
    /// spaces, and nothing appended (a `--tagstring`).
    pub(super) fn words_only(&self, args: &[Vec<u8>], n: Nums) -> Vec<u8> {
        let words: Vec<Vec<u8>> = self
            .words
            .iter()
            .flat_map(|w| self.word_argv(w, args, n))
            .collect();
        words.join(&b' ')
    }

    /// The argv for one job: `SHELL -c LINE`, or the words themselves.
    pub(super) fn argv(&self, args: &[Vec<u8>], n: Nums) -> Vec<OsString> {
        if let Exec::Shell(shell) = &self.exec {
            let line = self.line(args, n);
            return vec![shell.into(), "-c".into(), OsString::from_vec(line)];
        }
        let mut argv: Vec<OsString> = Vec::new();
        for word in &self.words {
            argv.extend(
                self.word_argv(word, args, n)
                    .into_iter()
                    .map(OsString::from_vec),
            );
        }
        if self.append {
            argv.extend(args.iter().map(|a| OsString::from_vec(a.clone())));
        }
        argv
    }

    /// The argv words one command word gives without a shell (several
    /// when `{}` stands for several arguments, none when it stands for
    /// nothing).
    fn word_argv(&self, word: &[Piece], args: &[Vec<u8>], n: Nums) -> Vec<Vec<u8>> {
        if self.context && has_all(word) && !args.is_empty() {
            return args
                .iter()
                .map(|a| {
                    let mut w = Vec::new();
                    for piece in word {
                        match piece {
                            Piece::Arg(r, None) => w.extend(apply(*r, a)),
                            p => piece_into(&mut w, p, args, n, false),
                        }
                    }
                    w
                })
                .collect();
        }
        let mut out = Vec::new();
        let mut current = Vec::new();
        // Something that stays a word even when empty (text, an argument).
        let mut solid = false;
        for piece in word {
            match piece {
                Piece::Arg(r, None) => {
                    for (k, a) in args.iter().enumerate() {
                        if k > 0 {
                            out.push(std::mem::take(&mut current));
                        }
                        current.extend(apply(*r, a));
                        solid = true;
                    }
                }
                Piece::Arg(_, Some(_)) if nth(args, piece).is_some() => solid = true,
                Piece::Text(_) | Piece::Seq | Piece::Slot => solid = true,
                Piece::Arg(..) => {}
            }
            if !matches!(piece, Piece::Arg(_, None)) {
                piece_into(&mut current, piece, args, n, false);
            }
        }
        if solid {
            out.push(current);
        }
        out
    }
}

/// True when a replacement string comes before the first blank or `=`
/// of the line (GNU parallel's `/^[^ \t\n=]*\257</`): it is (part of)
/// the command.
fn names_the_command(words: &[Vec<Piece>]) -> bool {
    for piece in words.first().into_iter().flatten() {
        match piece {
            Piece::Text(t) if t.iter().any(|b| b" \t\n=".contains(b)) => return false,
            Piece::Text(_) => {}
            _ => return true,
        }
    }
    false
}

/// True when `word` holds a replacement string of every argument.
fn has_all(word: &[Piece]) -> bool {
    word.iter().any(|p| matches!(p, Piece::Arg(_, None)))
}

/// The argument a positional piece names, if there is one.
fn nth<'a>(args: &'a [Vec<u8>], piece: &Piece) -> Option<&'a Vec<u8>> {
    let Piece::Arg(_, Some(n)) = piece else {
        return None;
    };
    let i = if *n > 0 {
        usize::try_from(*n - 1).ok()?
    } else {
        args.len()
            .checked_sub(usize::try_from(n.unsigned_abs()).ok()?)?
    };
    args.get(i)
}

/// Appends one piece: quoted for the shell or raw.
fn piece_into(out: &mut Vec<u8>, piece: &Piece, args: &[Vec<u8>], n: Nums, quoted: bool) {
    let q = |v: Vec<u8>| if quoted { quote(&v) } else { v };
    match piece {
        Piece::Text(t) => out.extend_from_slice(t),
        Piece::Seq => out.extend(n.seq.to_string().into_bytes()),
        Piece::Slot => out.extend(n.slot.to_string().into_bytes()),
        Piece::Arg(r, None) => {
            let all: Vec<Vec<u8>> = args.iter().map(|a| q(apply(*r, a))).collect();
            out.extend(all.join(&b' '));
        }
        Piece::Arg(r, Some(_)) => {
            if let Some(a) = nth(args, piece) {
                out.extend(q(apply(*r, a)));
            }
        }
    }
}

/// `{= perl =}` is refused: mproc has no Perl.
fn refuse_perl(words: &[Vec<u8>]) -> Result<(), String> {
    let all = words.join(&b' ');
    let opens = all.windows(2).position(|w| w == b"{=");
    if let Some(at) = opens {
        if all[at..].windows(2).any(|w| w == b"=}") {
            return Err(
                "{= perl expression =} is GNU parallel's Perl; mproc run has no Perl: \
                 compute the value in the command (e.g. mproc run 'f={}; echo ${f%.gz}')"
                    .into(),
            );
        }
    }
    Ok(())
}

/// Splits one word into text and replacement strings.
fn pieces(word: &[u8], opts: &LineOptions) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut text = Vec::new();
    let mut i = 0;
    let flush = |text: &mut Vec<u8>, out: &mut Vec<Piece>| {
        if !text.is_empty() {
            out.push(Piece::Text(std::mem::take(text)));
        }
    };
    while i < word.len() {
        if let Some(r) = opts.replace.as_deref().filter(|r| !r.is_empty()) {
            if word[i..].starts_with(r) {
                flush(&mut text, &mut out);
                out.push(Piece::Arg(Repl::Whole, None));
                i += r.len();
                continue;
            }
        }
        if word[i] == b'{' {
            if let Some(len) = word[i + 1..].iter().position(|&b| b == b'}') {
                let inside = &word[i + 1..i + 1 + len];
                if let Some(piece) = replacement(inside, opts)? {
                    flush(&mut text, &mut out);
                    out.push(piece);
                    i += len + 2;
                    continue;
                }
            }
        }
        text.push(word[i]);
        i += 1;
    }
    if !text.is_empty() || out.is_empty() {
        out.push(Piece::Text(text));
    }
    Ok(out)
}

/// The replacement string `{inside}`: `None` when it is plain text (it has
/// letters, spaces, `$`, ...: `awk '{print $1}'`, `${HOME}`), an error when
/// it looks like one mproc does not know (`{%}`, `{..}`).
fn replacement(inside: &[u8], opts: &LineOptions) -> Result<Option<Piece>, String> {
    if let Some(col) = opts.header.iter().position(|h| h == inside) {
        return Ok(Some(Piece::Arg(Repl::Whole, Some(col as i64 + 1))));
    }
    let looks_like_one = inside
        .iter()
        .all(|b| b.is_ascii_digit() || b"./#%-".contains(b));
    if !looks_like_one {
        return Ok(None);
    }
    let shown = String::from_utf8_lossy(inside);
    if inside == b"%" {
        return Ok(Some(Piece::Slot));
    }
    let renamed = opts.replace.is_some();
    let neg = inside.first() == Some(&b'-');
    let body = if neg { &inside[1..] } else { inside };
    let digits = body.iter().take_while(|b| b.is_ascii_digit()).count();
    let (group, rest) = body.split_at(digits);
    let pos = if group.is_empty() {
        if neg {
            return Err(format!("unknown replacement string {{{shown}}}"));
        }
        None
    } else {
        let n: i64 = std::str::from_utf8(group)
            .ok()
            .and_then(|g| g.parse().ok())
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("replacement string {{{shown}}}: not an argument number"))?;
        Some(if neg { -n } else { n })
    };
    let repl = match rest {
        b"" if pos.is_none() && renamed => return Ok(None),
        b"" => Repl::Whole,
        b"." => Repl::NoExt,
        b"/" => Repl::Base,
        b"//" => Repl::Dir,
        b"/." => Repl::BaseNoExt,
        b"#" if pos.is_none() => return Ok(Some(Piece::Seq)),
        _ => {
            return Err(format!(
                "unknown replacement string {{{shown}}}; mproc run knows {{}} {{.}} {{/}} {{//}} \
                 {{/.}} {{#}} and {{n}} {{-n}} {{n.}} {{n/}} {{n//}} {{n/.}} (GNU parallel's --plus \
                 strings are not supported)"
            ))
        }
    };
    Ok(Some(Piece::Arg(repl, pos)))
}

fn needs_shell(words: &[Vec<Piece>]) -> bool {
    let syntax = words.iter().flatten().any(|p| match p {
        Piece::Text(t) => t.iter().any(|b| SHELL_SYNTAX.contains(b)),
        _ => false,
    });
    let first_is_shell_only = match words[0].as_slice() {
        [Piece::Text(t)] => SHELL_ONLY.iter().any(|w| w.as_bytes() == t.as_slice()),
        _ => false,
    };
    syntax || first_is_shell_only || words[0] == [Piece::Text(Vec::new())]
}

/// What replacement string `r` gives for `arg` (GNU parallel's rules).
fn apply(r: Repl, arg: &[u8]) -> Vec<u8> {
    match r {
        Repl::Whole => arg.to_vec(),
        Repl::NoExt => no_ext(arg).to_vec(),
        Repl::Base => base(arg).to_vec(),
        Repl::Dir => dir(arg),
        Repl::BaseNoExt => no_ext(base(arg)).to_vec(),
    }
}

/// `s:\.[^/.]*$::`: `a.tar.gz` → `a.tar`, `a/b.c/d` stays, `.rc` → ``.
fn no_ext(s: &[u8]) -> &[u8] {
    match s.iter().rposition(|&b| b == b'.') {
        Some(dot) if !s[dot..].contains(&b'/') => &s[..dot],
        _ => s,
    }
}

/// `s:.*/::`: `a/b` → `b`, `a/` → ``.
fn base(s: &[u8]) -> &[u8] {
    match s.iter().rposition(|&b| b == b'/') {
        Some(slash) => &s[slash + 1..],
        None => s,
    }
}

/// POSIX `dirname`: `a/b` → `a`, `a` → `.`, `/x` → `/`, `a/b/` → `a`.
fn dir(s: &[u8]) -> Vec<u8> {
    if !s.is_empty() && s.iter().all(|&b| b == b'/') {
        return b"/".to_vec();
    }
    let trimmed = trim_slashes(s);
    let Some(slash) = trimmed.iter().rposition(|&b| b == b'/') else {
        return b".".to_vec();
    };
    let parent = trim_slashes(&trimmed[..slash]);
    if parent.is_empty() {
        b"/".to_vec()
    } else {
        parent.to_vec()
    }
}

fn trim_slashes(s: &[u8]) -> &[u8] {
    let end = s.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
    &s[..end]
}

/// `word` quoted as GNU parallel quotes for Bourne shells
/// (`shell_quote_scalar_default`): as is when it is only
/// `[-_.+a-zA-Z0-9/]`, `''` when empty, else in single quotes with each
/// `'` written `'"'"'` (and no `''` left at either end).
pub(super) fn quote(word: &[u8]) -> Vec<u8> {
    if word.is_empty() {
        return b"''".to_vec();
    }
    if word
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.+/".contains(b))
    {
        return word.to_vec();
    }
    let mut out = vec![b'\''];
    for &b in word {
        if b == b'\'' {
            out.extend_from_slice(b"'\"'\"'");
        } else {
            out.push(b);
        }
    }
    out.push(b'\'');
    let start = if out.starts_with(b"''") { 2 } else { 0 };
    let end = if out.len() - start >= 2 && out.ends_with(b"''") {
        out.len() - 2
    } else {
        out.len()
    };
    out[start..end].to_vec()
}

#[cfg(test)]
#[path = "line_tests.rs"]
mod tests;
