//! Command lines as GNU parallel builds them: a [`Template`] made once from
//! the command words, and the argv it gives for one input.
//!
//! Replacement strings: `{}` the input, `{.}` without its extension, `{/}`
//! its basename, `{//}` its dirname, `{/.}` the basename without extension,
//! `{#}` the item's sequence number from 1 (and `{1}`, `{1.}`, ... for the
//! one input group). With none, the input is appended as the last word.
//!
//! The words are joined with spaces and run by `sh -c`, each substituted
//! input single-quoted, so `a b; rm -rf x` stays one argument. A line with
//! no shell syntax at all (no quotes, pipes, globs, variables, ...) gives
//! the same argv without a shell, so it is executed directly, which saves
//! one `exec` per item; `--no-shell` always does that. This module knows
//! nothing of processes.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use serde::{Deserialize, Serialize};

/// What a replacement string stands for.
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
    /// `{#}`
    Seq,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Piece {
    Text(Vec<u8>),
    Repl(Repl),
}

/// The command words, parsed once; see the module docs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    words: Vec<Vec<Piece>>,
    /// Run through `sh -c` (else exec the words directly).
    shell: bool,
    /// No replacement string: the input goes last.
    append: bool,
}

/// Shell words that only a shell can run (keywords and builtins with no
/// program of the same name).
const SHELL_ONLY: &[&str] = &[
    "!", ".", ":", "[[", "{", "alias", "bg", "break", "case", "cd", "command", "continue", "eval",
    "exec", "exit", "export", "fg", "for", "function", "getopts", "hash", "if", "jobs", "let",
    "local", "read", "readonly", "return", "select", "set", "shift", "source", "times", "trap",
    "type", "ulimit", "umask", "unalias", "unset", "until", "wait", "while",
];

/// Bytes that mean something to `sh` (or make a word more than one word).
const SHELL_SYNTAX: &[u8] = b"|&;<>()$`\\\"' \t\n*?[]#~=%!{}";

impl Template {
    /// Parses the command words; an empty command or an unknown
    /// replacement string is refused with a message for the user.
    pub fn parse(words: &[Vec<u8>], no_shell: bool) -> Result<Template, String> {
        if words.is_empty() || words.iter().all(|w| w.iter().all(u8::is_ascii_whitespace)) {
            return Err(
                "mproc run needs a command: mproc run [OPTIONS] COMMAND [ARG...] [::: INPUT...]"
                    .into(),
            );
        }
        let words = words
            .iter()
            .map(|w| pieces(w))
            .collect::<Result<Vec<_>, _>>()?;
        let append = !words.iter().flatten().any(|p| matches!(p, Piece::Repl(_)));
        let shell = !no_shell && needs_shell(&words);
        Ok(Template {
            words,
            shell,
            append,
        })
    }

    /// True when the line runs through `sh -c`.
    pub fn shell(&self) -> bool {
        self.shell
    }

    /// The program the line starts (for "command not found" messages):
    /// the first word, up to any space in it.
    pub fn program(&self, input: &[u8], seq: u64) -> String {
        let word: Vec<u8> = self.words[0]
            .iter()
            .flat_map(|p| raw(p, input, seq))
            .collect();
        let word = String::from_utf8_lossy(&word).into_owned();
        match (self.shell, word.split_whitespace().next()) {
            (true, Some(first)) => first.to_string(),
            _ => word,
        }
    }

    /// The argv for one input: `sh -c LINE`, or the words themselves.
    pub fn argv(&self, input: &[u8], seq: u64) -> Vec<OsString> {
        if self.shell {
            let mut line = Vec::new();
            for (i, word) in self.words.iter().enumerate() {
                if i > 0 {
                    line.push(b' ');
                }
                for piece in word {
                    match piece {
                        Piece::Text(t) => line.extend_from_slice(t),
                        Piece::Repl(r) => quote_into(&mut line, &apply(*r, input, seq)),
                    }
                }
            }
            if self.append {
                line.push(b' ');
                quote_into(&mut line, input);
            }
            vec!["sh".into(), "-c".into(), OsString::from_vec(line)]
        } else {
            let mut argv: Vec<OsString> = self
                .words
                .iter()
                .map(|w| OsString::from_vec(w.iter().flat_map(|p| raw(p, input, seq)).collect()))
                .collect();
            if self.append {
                argv.push(OsString::from_vec(input.to_vec()));
            }
            argv
        }
    }
}

fn raw(piece: &Piece, input: &[u8], seq: u64) -> Vec<u8> {
    match piece {
        Piece::Text(t) => t.clone(),
        Piece::Repl(r) => apply(*r, input, seq),
    }
}

/// Splits one word into text and replacement strings.
fn pieces(word: &[u8]) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut text = Vec::new();
    let mut i = 0;
    while i < word.len() {
        if word[i] == b'{' {
            if let Some(len) = word[i + 1..].iter().position(|&b| b == b'}') {
                let inside = &word[i + 1..i + 1 + len];
                if let Some(repl) = replacement(inside)? {
                    if !text.is_empty() {
                        out.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    out.push(Piece::Repl(repl));
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
/// it looks like one mproc does not know (`{%}`, `{2}`, `{..}`).
fn replacement(inside: &[u8]) -> Result<Option<Repl>, String> {
    let looks_like_one = inside
        .iter()
        .all(|b| b.is_ascii_digit() || b"./#%".contains(b));
    if !looks_like_one {
        return Ok(None);
    }
    // `{1}` ... `{1/.}`: the first (and only) input group.
    let digits = inside.iter().take_while(|b| b.is_ascii_digit()).count();
    let (group, rest) = inside.split_at(digits);
    if !group.is_empty() && group != b"1" {
        return Err(format!(
            "replacement string {{{}}} names input group {}, but mproc run takes one ::: group \
             (use {{}} or {{1}})",
            String::from_utf8_lossy(inside),
            String::from_utf8_lossy(group)
        ));
    }
    Ok(Some(match rest {
        b"" => Repl::Whole,
        b"." => Repl::NoExt,
        b"/" => Repl::Base,
        b"//" => Repl::Dir,
        b"/." => Repl::BaseNoExt,
        b"#" if group.is_empty() => Repl::Seq,
        _ => {
            return Err(format!(
                "unknown replacement string {{{}}}; mproc run knows {{}} {{.}} {{/}} {{//}} {{/.}} {{#}}",
                String::from_utf8_lossy(inside)
            ))
        }
    }))
}

fn needs_shell(words: &[Vec<Piece>]) -> bool {
    let syntax = words.iter().flatten().any(|p| match p {
        Piece::Text(t) => t.iter().any(|b| SHELL_SYNTAX.contains(b)),
        Piece::Repl(_) => false,
    });
    let first_is_shell_only = match words[0].as_slice() {
        [Piece::Text(t)] => SHELL_ONLY.iter().any(|w| w.as_bytes() == t.as_slice()),
        _ => false,
    };
    syntax || first_is_shell_only || words[0] == [Piece::Text(Vec::new())]
}

/// What replacement string `r` gives for `input` (GNU parallel's rules).
fn apply(r: Repl, input: &[u8], seq: u64) -> Vec<u8> {
    match r {
        Repl::Whole => input.to_vec(),
        Repl::NoExt => no_ext(input).to_vec(),
        Repl::Base => base(input).to_vec(),
        Repl::Dir => dir(input),
        Repl::BaseNoExt => no_ext(base(input)).to_vec(),
        Repl::Seq => seq.to_string().into_bytes(),
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

/// Appends `word` quoted for `sh`: as is when it is plainly one word,
/// else in single quotes (a `'` inside written as `'\''`).
fn quote_into(out: &mut Vec<u8>, word: &[u8]) {
    let plain = !word.is_empty()
        && word
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"_./,:@+-".contains(b));
    if plain {
        out.extend_from_slice(word);
        return;
    }
    out.push(b'\'');
    for &b in word {
        if b == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(b);
        }
    }
    out.push(b'\'');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(ws: &[&str]) -> Vec<Vec<u8>> {
        ws.iter().map(|w| w.as_bytes().to_vec()).collect()
    }

    fn argv(ws: &[&str], input: &str) -> Vec<String> {
        Template::parse(&words(ws), false)
            .unwrap()
            .argv(input.as_bytes(), 7)
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn replacement_strings_follow_gnu_parallel() {
        // Checked against GNU parallel 20221122.
        for (input, want) in [
            ("a/b.c/d", "a/b.c/d a/b.c/d d a/b.c d 7"),
            ("foo.tar.gz", "foo.tar.gz foo.tar foo.tar.gz . foo.tar 7"),
            (".bashrc", ".bashrc  .bashrc .  7"),
            ("a/.b", "a/.b a/ .b a  7"),
            ("x.", "x. x x. . x 7"),
            ("dir/", "dir/ dir/  .  7"),
            ("/x", "/x /x x / x 7"),
            ("a//b", "a//b a//b b a b 7"),
            ("/", "/ /  /  7"),
            ("a/b/", "a/b/ a/b/  a  7"),
        ] {
            let got: Vec<String> = [
                Repl::Whole,
                Repl::NoExt,
                Repl::Base,
                Repl::Dir,
                Repl::BaseNoExt,
                Repl::Seq,
            ]
            .iter()
            .map(|r| String::from_utf8(apply(*r, input.as_bytes(), 7)).unwrap())
            .collect();
            assert_eq!(got.join(" "), want, "{input}");
        }
    }

    #[test]
    fn a_plain_line_runs_without_a_shell_and_keeps_the_input_one_word() {
        assert_eq!(argv(&["gzip", "-k", "{}"], "a b"), ["gzip", "-k", "a b"]);
        assert_eq!(argv(&["echo"], "x y"), ["echo", "x y"]);
        assert_eq!(
            argv(&["cp", "{}", "{.}.bak"], "d/f.txt"),
            ["cp", "d/f.txt", "d/f.bak"]
        );
    }

    #[test]
    fn shell_syntax_runs_through_sh_with_the_input_quoted() {
        assert_eq!(
            argv(&["echo {} | wc -c"], "a b; rm -rf x"),
            ["sh", "-c", "echo 'a b; rm -rf x' | wc -c"]
        );
        assert_eq!(
            argv(&["cd", "{//}"], "it's/f"),
            ["sh", "-c", "cd 'it'\\''s'"]
        );
        assert_eq!(argv(&["echo", "$X"], ""), ["sh", "-c", "echo $X ''"]);
    }

    #[test]
    fn braces_that_are_not_replacement_strings_stay() {
        assert_eq!(
            argv(&["awk '{print $1}'", "{}"], "f"),
            ["sh", "-c", "awk '{print $1}' f"]
        );
        assert_eq!(
            argv(&["echo", "${HOME}"], "f"),
            ["sh", "-c", "echo ${HOME} f"]
        );
    }

    #[test]
    fn unknown_replacement_strings_and_empty_commands_are_refused() {
        for bad in ["{%}", "{2}", "{..}", "x{1#}"] {
            let e = Template::parse(&words(&["echo", bad]), false).unwrap_err();
            assert!(e.contains("replacement string"), "{bad}: {e}");
        }
        assert!(Template::parse(&[], false)
            .unwrap_err()
            .contains("needs a command"));
        assert!(Template::parse(&words(&[" "]), false).is_err());
        assert_eq!(argv(&["echo", "{1}", "{1.}"], "a.b"), ["echo", "a.b", "a"]);
    }

    #[test]
    fn no_shell_substitutes_without_quoting() {
        let t = Template::parse(&words(&["echo", "<{}>"]), true).unwrap();
        assert!(!t.shell());
        assert_eq!(t.argv(b"a'b", 1), ["echo", "<a'b>"]);
    }
}
