//! `mproc run` against GNU parallel itself: each command line of the table
//! runs with both `parallel` (20221122, Debian's) and `mproc run`, with the
//! same arguments, stdin and folder, and their stdout and exit status must
//! be the same. The cases come from GNU parallel 20221122's own test suite
//! (`testsuite/tests-to-run/*.sh` in its source, named per block), its man
//! page's examples (`man parallel`, `man parallel_tutorial`) and edge
//! cases. Cases GNU parallel would run in any order are compared sorted.
//! Deliberate improvements are listed as such, and GNU options mproc does
//! not take must be refused with one line (exit 2), never run with another
//! meaning. Without `parallel` on the machine, the test prints
//! `skipped: parallel not installed`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::{mproc, temp_dir, wait_bounded};

/// How a case is compared.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// Same stdout and exit status.
    Same,
    /// Same exit status, and the same lines in some order.
    Sorted,
    /// mproc refuses it (exit 2, one line on stderr).
    Refused,
}

use Kind::*;

/// (kind, stdin, arguments after `parallel` / `mproc run`).
type Case = (Kind, Option<&'static str>, &'static [&'static str]);

#[rustfmt::skip]
const CASES: &[Case] = &[
    // man parallel: EXAMPLE: Working as xargs -n1 / cat | sh, and the
    // input sources.
    (Same, None, &["-k", "echo", ":::", "a", "b", "c"]),
    (Same, None, &["-k", "echo", ":::", "a", "b", ":::", "1", "2"]),
    (Same, None, &["-k", "echo", "{1}", "{2}", ":::", "a", "b", ":::", "1", "2"]),
    (Same, None, &["-k", "echo", "{2}", "{1}", ":::", "a", "b", ":::", "1", "2"]),
    (Same, None, &["-k", "echo", ":::", "a", "b", ":::+", "1", "2"]),
    (Same, None, &["-k", "echo", ":::", "a", "b", "c", ":::+", "1", "2"]),
    (Same, None, &["-k", "--link", "echo", ":::", "a", "b", "c", ":::", "1", "2"]),
    (Same, None, &["-k", "--xapply", "echo", ":::", "a", "b", ":::", "1", "2", "3"]),
    (Same, None, &["-k", "echo", ":::", "a", "b", ":::", "1", "2", ":::", "X", "Y"]),
    (Same, None, &["-k", "echo", ":::", "a", "b", ":::", "1", "2", ":::+", "X", "Y"]),
    (Same, None, &["-k", "echo", "::::", "nums"]),
    (Same, None, &["-k", "echo", "::::", "nums", "ab"]),
    (Same, None, &["-k", "echo", "{1}", "::::", "nums", "ab"]),
    (Same, None, &["-k", "echo", "::::", "nums", "::::+", "ab"]),
    (Same, None, &["-k", "--link", "echo", "::::", "nums", "ab"]),
    (Same, None, &["-k", "-a", "nums", "echo"]),
    (Same, None, &["-k", "-a", "nums", "-a", "ab", "echo"]),
    (Same, None, &["-k", "--arg-file", "ab", "echo", "x"]),
    (Same, None, &["-k", "echo", ":::", "a", "::::", "ab"]),
    (Same, None, &["-k", "-a", "ab", "echo", ":::", "x", "y"]),
    (Same, Some("1\n2\n"), &["-k", "-a", "-", "echo", ":::", "x"]),
    (Same, Some("1\n2\n"), &["-k", "echo", "::::", "-", ":::", "x"]),
    (Same, Some("a\nb\nc\n"), &["-k", "echo"]),
    (Same, Some("a\nb\nc\n"), &["-k", "echo", "x{}y"]),
    (Same, Some("a\nb\nc"), &["-k", "echo"]),
    (Same, Some(""), &["echo", "x"]),
    (Same, Some("\n"), &["echo", "x"]),
    (Same, Some("\n"), &["-r", "echo", "x"]),
    (Same, Some("a\n\n \nb\n"), &["-kr", "echo", "x{}x"]),
    (Same, Some("a\n\n \nb\n"), &["-k", "echo", "x{}x"]),
    (Same, Some("a\0b\0"), &["-k", "-0", "echo"]),
    (Same, Some("a\0b c\0"), &["-k", "--null", "echo", "[{}]"]),
    (Same, Some("a,b,c"), &["-k", "-d", ",", "echo"]),
    (Same, Some("a:b:c\n"), &["-k", "-d", ":", "echo", "[{}]"]),
    (Same, Some("a\tb\n"), &["-k", "-d", "\\t", "echo", "[{}]"]),
    (Same, None, &["echo", ":::"]),
    (Same, None, &["echo", ":::", ":::"]),
    (Same, None, &["-k", "echo", ":::", "a", ":::"]),
    (Same, None, &["-k", "echo", "{}", "{#}", ":::", "a", ":::", ":::", "b"]),
    (Same, None, &["-k", "echo", "::::", "/dev/null", ":::", "a"]),
    (Same, None, &["-k", "echo", ":::", "a", ":::+"]),
    // man parallel: replacement strings.
    (Same, None, &["-k", "echo", "{.}", ":::", "dir/file.tar.gz", "a", ".bashrc", "x."]),
    (Same, None, &["-k", "echo", "{/}", ":::", "dir/file.tar.gz", "a", "dir/", "/"]),
    (Same, None, &["-k", "echo", "{//}", ":::", "dir/file.tar.gz", "a", "/x", "a/b/"]),
    (Same, None, &["-k", "echo", "{/.}", ":::", "dir/file.tar.gz", "a.b/c", ".rc"]),
    (Same, None, &["-k", "echo", "{#}", ":::", "a", "b", "c"]),
    (Same, None, &["-j1", "echo", "{%}", "{#}", ":::", "a", "b", "c"]),
    (Same, None, &["-j1", "--dry-run", "echo", "{%}", ":::", "a"]),
    (Sorted, None, &["-j3", "sleep 1; echo {%}", ":::", "a", "b", "c"]),
    (Same, None, &["-k", "echo", "{#}", "{}", ":::", "a", "b", ":::", "1", "2"]),
    (Same, None, &["-k", "echo", "{1.}", "{2/}", ":::", "a.b", ":::", "c/d"]),
    (Same, None, &["-k", "echo", "{1//}", "{2/.}", ":::", "a/b.c", ":::", "d/e.f"]),
    (Same, None, &["-k", "echo", "{-1}", "{1}", ":::", "a", "b", ":::", "c", "d"]),
    (Same, None, &["-k", "echo", "{-2}", ":::", "a", "b", ":::", "c", "d"]),
    (Same, None, &["-k", "echo", "{3}", "x", ":::", "a", "b"]),
    (Same, None, &["-k", "echo", "{}", "{}", ":::", "a"]),
    (Same, None, &["-k", "echo", "pre{}post", ":::", "a", "b c"]),
    (Same, None, &["-k", "echo", "{}.bak", ":::", "f.txt"]),
    (Same, None, &["-k", "cp", "--help", "{}", ":::", "x"]),
    (Same, None, &["-k", "echo", "{.}.png", ":::", "a.svg", "b.svg"]),
    (Same, None, &["-k", "echo", "awk '{print $1}'", ":::", "a"]),
    (Same, None, &["-k", "echo", "${HOME:+home}", ":::", "a"]),
    // parallel-local-1s.sh: {//} and {1//} of many paths.
    (Same, None, &["-k", "echo", "{//}", "{}", ":::", "a", "a/b", "a/b/c"]),
    (Same, None, &["-k", "echo", "{//}", "{}", ":::", "/a", "/a/b", "/a/b/c"]),
    (Same, None, &["-k", "echo", "{//}", "{}", ":::", "./a", "./a/b", "./a/b/c"]),
    (Same, None, &["-k", "echo", "{//}", "{}", ":::", "a.jpg", "a/b.jpg", "a/b/c.jpg"]),
    (Same, None, &["-k", "echo", "{//}", "{}", ":::", "/a.jpg", "/a/b.jpg", "/a/b/c.jpg"]),
    (Same, None, &["-k", "echo", "{//}", "{}", ":::", "./a.jpg", "./a/b.jpg"]),
    (Same, None, &["-k", "echo", "{1//}", "{}", ":::", "a", "a/b", "a/b/c"]),
    (Same, None, &["-k", "echo", "{1//}", "{}", ":::", "/a", "/a/b", "/a/b/c"]),
    (Same, None, &["-k", "echo", "{1//}", "{}", ":::", "./a", "./a/b", "./a/b/c"]),
    (Same, None, &["-k", "echo", "{1//}", "{}", ":::", "a.jpg", "a/b.jpg", "a/b/c.jpg"]),
    (Same, None, &["-k", "echo", "{1//}", "{}", ":::", "/a.jpg", "/a/b.jpg"]),
    (Same, None, &["-k", "echo", "{1//}", "{}", ":::", "./a.jpg", "./a/b/c.jpg"]),
    // parallel-local-0.3s.sh: -N and positional strings.
    (Same, None, &["-N", "6", "echo", "{-1}orrect", ":::", "A", "B", "X", "D", "E", "c"]),
    (Same, None, &["-X", "-j1", "-N", "6", "echo", "{-1}orrec{1}", ":::", "t", "B", "X", "D", "E", "c"]),
    (Same, None, &["-k", "echo", "{#}", ":::", "1", "2", ":::", "1", "2"]),
    (Same, Some("1\n2\n"), &["-k", "-N2", "echo", "{1}", "{2}"]),
    (Same, None, &["-k", "-N2", "echo", ":::", "a", "b", "c", "d", "e"]),
    (Same, None, &["-k", "-n2", "echo", ":::", "a", "b", "c", "d", "e"]),
    (Same, None, &["-k", "-n", "3", "echo", ":::", "a", "b", "c", "d", "e"]),
    (Same, None, &["-k", "--max-args", "2", "echo", ":::", "a", "b", "c"]),
    (Same, None, &["-k", "-N2", "echo", "{1}", "{2}", "{3}", "{4}", ":::", "a", "b", "c", "d", ":::", "1", "2"]),
    (Same, None, &["-k", "-N2", "echo", "{}", ":::", "a", "b", "c", ":::", "1", "2"]),
    (Same, None, &["-k", "-N2", "echo", "{2}-{1}", ":::", "a", "b", "c"]),
    (Same, None, &["-k", "-N3", "echo", "{-1}", ":::", "a", "b", "c", "d"]),
    (Same, None, &["-k", "--max-replace-args", "2", "echo", "{1}+{2}", ":::", "1", "2", "3", "4"]),
    // -X and -m: several arguments per line, spread over the job slots.
    (Same, None, &["-j1", "-X", "echo", "x{}y", ":::", "a", "b", "c"]),
    (Same, None, &["-j1", "-m", "echo", "x{}y", ":::", "a", "b", "c"]),
    (Same, None, &["-j2", "-k", "-X", "echo", ":::", "a", "b", "c", "d", "e"]),
    (Same, None, &["-j2", "-k", "-X", "echo", "x{}y", ":::", "a", "b", "c"]),
    (Same, None, &["-j2", "-k", "-m", "echo", "x{}y", ":::", "a", "b", "c"]),
    (Same, None, &["-j3", "-k", "-m", "echo", ":::", "1", "2", "3", "4", "5", "6", "7"]),
    (Same, Some("1\n2\n3\n4\n5\n6\n"), &["-j1", "-I", "::", "-X", "echo", "a::b::^c::[.}c"]),
    (Same, Some("1.gif\n2.gif\n3.gif\n"), &["-j1", "-kX", "echo", "a{}b{.}c{.}"]),
    (Same, Some("1.gif\n2.gif\n3.gif\n"), &["-j1", "-km", "echo", "a{}b{.}c{.}"]),
    (Same, Some("a\n"), &["-qX", "echo", "'{.}'"]),
    (Same, None, &["-j1", "-X", "echo", "{1}", "{2}", ":::", "a", "b", "c"]),
    // --colsep and --header (parallel-local-3s.sh, parallel-local-10s.sh).
    (Same, None, &["-k", "--colsep", ",", "echo", "{2}", "{1}", ":::", "a,b", "c,d"]),
    (Same, None, &["-k", "--colsep", ",", "echo", "[{1}]", "[{2}]", ":::", " a , b "]),
    (Same, None, &["-k", "--colsep", "%", "echo", "{1}", "{3}", "{2}", ":::", "a%c%b", "d%f%e"]),
    (Same, None, &["-k", "--colsep", "%", "echo", "{1}", "{3}", "{2}", "{4}", ":::", "a%c%b", "a%c%b%d"]),
    (Same, Some("a%c%b\n"), &["--colsep", "%", "echo", "{1}", "{3}", "{2}"]),
    (Same, None, &["-k", "-a", "tab.tsv", "--colsep", "\\t", "echo", "{2}", "{1}"]),
    (Same, None, &["-k", "-C", " ", "echo", "{2}+{1}", ":::", "1 2", "3 4"]),
    (Same, None, &["--colsep", " ", "echo", "{-3}orrect", ":::", "1 c 3 4"]),
    (Same, None, &["-k", "--colsep", ",", "echo", "{-1}", ":::", "a,b,c"]),
    (Same, None, &["-k", "--header", ":", "echo", "{foo}", "{1}", ":::", "foo", "1", "2"]),
    (Same, None, &["-k", "--header", ":", "echo", "{a}{b}", ":::", "a", "1", "2", ":::", "b", "x"]),
    (Same, None, &["-k", "--header", ":", "--colsep", ",", "echo", "{y}-{x}", "::::", "h.csv"]),
    (Same, None, &["-k", "--header", ".*", "--colsep", ",", "echo", "{x}", "::::", "h.csv"]),
    (Same, None, &["-k", "--colsep", ",", "echo", "::::", "h.csv"]),
    // --tag and --tagstring (parallel-local-0.3s.sh).
    (Same, None, &["-k", "--tag", "echo", "hi", ":::", "a", "b"]),
    (Same, None, &["-k", "--tag", "echo", ":::", "1", ":::", "a"]),
    (Same, None, &["-k", "--tag", "-N2", "echo", ":::", "a", "b", "c", "d"]),
    (Same, None, &["-k", "--tagstring", "X{}", "echo", "hi", ":::", "a", "b"]),
    (Same, None, &["-k", "--tagstring", "I{1}\\tB{2}", "echo", ":::", "1", ":::", "a"]),
    (Same, None, &["-k", "--tagstring", "{#}", "echo", "ABC;echo", ":::", "x", "y"]),
    (Same, None, &["-k", "--tag", "printf", "a\\nb\\n", ":::", "x"]),
    (Same, None, &["-k", "--tag", "printf", "no-newline", ":::", "x"]),
    (Same, None, &["-k", "--tag", "-v", "echo", ":::", "a", "b"]),
    (Same, None, &["-k", "--tagstring", "", "echo", ":::", "a"]),
    (Sorted, None, &["-j0", "-X", "echo", ":::", "a", "b", "c"]),
    // -v, --dry-run, -q: the command lines as GNU parallel prints them.
    (Same, None, &["-kv", "echo", ":::", "a", "b"]),
    (Same, None, &["-k", "-v", "echo", "{}", "{}", ":::", "a b", "it's"]),
    (Same, None, &["-k", "--dry-run", "echo", ":::", "a b", "it's", "$x", ""]),
    (Same, None, &["-k", "--dry-run", "echo", "{}", "|", "wc", ":::", "a"]),
    (Same, None, &["-k", "--dry-run", "echo", "x{}y", ":::", "a", "b", ":::", "1"]),
    (Same, None, &["-k", "--dry-run", "-N2", "echo", ":::", "a", "b", "c"]),
    (Same, None, &["-k", "--dry-run", "-q", "echo", "a b", "{}", ":::", "c d"]),
    (Same, None, &["-k", "--dry-run", ":::", "echo a", "echo b"]),
    (Same, None, &["--dryrun", "--joblog", "-", "echo", ":::", "Only_this"]),
    (Same, None, &["-k", "--dry-run", "echo", ":::", "ü", "a\"b", "a'b'c", "\\"]),
    (Same, None, &["-k", "--dry-run", "echo", ":::", "a\tb", "~", "*", "#"]),
    (Same, None, &["-k", "-q", "perl", "-e", "print \"x$ARGV[0]\\n\"", ":::", "a", "b"]),
    (Same, None, &["-k", "--quote", "echo", "a  b", ":::", "c"]),
    (Same, None, &["-k", "-q", "echo", "a {} b", ":::", "x"]),
    (Same, None, &["-k", "-q", "sh", "-c", "echo $0", ":::", "a b"]),
    (Same, None, &["-k", "sh", "-c", "'echo $0'", ":::", "a b"]),
    // Quoting: an input is one argument, whatever it holds.
    (Same, None, &["-k", "echo", ":::", "a b", "a;b", "$(echo x)", "`id`", "a'b", "a\"b"]),
    (Same, None, &["-k", "echo", ":::", "*", "?", "[a]", "~", "a\\b", "!x"]),
    (Same, None, &["-k", "printf", "[%s]\\n", ":::", "  lead", "trail  ", "a\tb"]),
    (Same, None, &["-k", "printf", "%s|", ":::", "", "x"]),
    (Same, None, &["-k", "echo", "{}", "|", "tr", "a-z", "A-Z", ":::", "a b", "c"]),
    (Same, None, &["-k", "echo {} | wc -c", ":::", "a b; rm -rf x"]),
    (Same, None, &["-k", "echo", "-n", ":::", "x", "y"]),
    (Same, None, &["-k", "echo", ":::", "-n", "-e", "--", "-"]),
    // Commands from the arguments (no command), as cat jobs | sh.
    (Same, None, &["-k", ":::", "echo a", "echo b"]),
    // A replacement string in the command itself quotes nothing.
    (Same, None, &["{}", ":::", "echo a   b"]),
    (Same, None, &["{}", "x", ":::", "echo a"]),
    (Same, None, &["{.}", ":::", "echo a.b"]),
    (Same, None, &["-v", "{}", ":::", "echo $HOME"]),
    (Same, None, &["-v", "{}", "{}", ":::", "echo 1"]),
    (Same, None, &["-k", "-v", "V={}", "sh", "-c", "'echo $V'", ":::", "a b"]),
    (Same, Some("echo 1\necho 2; echo 3\n"), &["-k"]),
    (Same, None, &["-k", "--gnu", "echo", ":::", "1", "2", "3", "--", "a", "b", "c"]),
    // The shell GNU parallel uses: the calling one (here the test's
    // ancestor shell, else $SHELL), so its builtins and syntax behave alike.
    (Same, None, &["-k", "echo 'a\\tb'", ":::", "x"]),
    (Same, None, &["-k", "[[ {} == a* ]] && echo yes || echo no", ":::", "ab", "ba"]),
    (Same, None, &["-k", "echo $((1+{}))", ":::", "1", "2"]),
    (Same, None, &["-k", "for i in 1 2; do echo {}$i; done", ":::", "a"]),
    (Same, None, &["-k", "cd", "/", "&&", "pwd", ":::", "x"]),
    (Same, None, &["-k", "x={}; echo ${x%.gz}", ":::", "a.gz"]),
    (Same, None, &["-k", "echo", "$PARALLEL_SEQ", ":::", "a", "b"]),
    (Same, None, &["-k", "echo {} >&2; echo out{}", ":::", "a"]),
    // Exit status: the number of failed jobs, 101 for more than 100.
    (Same, None, &["-k", "exit {}", ":::", "0", "3", "4"]),
    (Same, None, &["-k", "exit {}", ":::", "0", "0"]),
    (Same, None, &["false", ":::", "1", "2", "3"]),
    (Same, Some(SEQ_200), &["-j4", "false"]),
    (Same, Some(SEQ_200), &["-j4", "true"]),
    (Same, None, &["-k", "exit 300", ":::", "1"]),
    (Same, None, &["-k", "no-such-program-x", ":::", "a"]),
    (Same, None, &["-k", "./no-such-file", ":::", "a"]),
    (Same, None, &["-k", "kill -9 $$", ":::", "1"]),
    (Same, None, &["-k", "echo x; exit 1", ":::", "1", "2"]),
    // --halt: the exit status of the job that halted the run.
    (Same, None, &["-j1", "--halt", "soon,fail=1", "echo {}; exit {}", ":::", "0", "3", "4", "0"]),
    (Same, None, &["-j1", "--halt", "now,fail=1", "echo {}; exit {}", ":::", "0", "3", "4", "0"]),
    (Same, None, &["-j1", "--halt", "1", "exit {}", ":::", "0", "3", "4", "0"]),
    (Same, None, &["-j1", "--halt", "2", "exit {}", ":::", "0", "5", "4"]),
    (Same, None, &["-j1", "--halt-on-error", "1", "exit {}", ":::", "0", "2", "4"]),
    (Same, None, &["-j1", "--halt", "never", "exit {}", ":::", "0", "2", "4"]),
    (Same, None, &["-k", "--halt", "soon,fail=1", "echo", ":::", "a", "b"]),
    // The jobs after the one that halts take 3 s, so the parent stops
    // them before they end (as GNU parallel at -j1 never starts them).
    (Same, None, &["-j1", "--halt", "now,success=1", HALT_AFTER_2, ":::", "1", "0", "2", "3", "0"]),
    (Same, None, &["-j1", "--halt", "-2", HALT_AFTER_2, ":::", "1", "0", "2", "3", "0"]),
    (Same, None, &["-j1", "--halt", "now,done=2", HALT_AFTER_2, ":::", "1", "0", "2", "3", "0"]),
    (Same, None, &["-j1", "--halt", "now,done=1", HALT_AFTER_1, ":::", "1", "0", "2", "3", "0"]),
    (Same, None, &["-j1", "--halt", "now,fail=2", HALT_AFTER_3, ":::", "1", "0", "2", "3", "0"]),
    (Same, None, &["-j1", "--halt", "now,fail=50%", HALT_AFTER_4, ":::", "1", "0", "2", "3", "0"]),
    // --retries: N tries in all; the last try's output.
    (Same, None, &["-k", "--retries", "3", "echo try; exit 1", ":::", "a"]),
    (Same, None, &["-k", "--retries", "1", "echo {}; exit 1", ":::", "a"]),
    (Same, None, &["-k", "--retries", "2", "echo ok", ":::", "a", "b"]),
    // --timeout: the job is killed, its output printed, it fails.
    (Same, None, &["-k", "--timeout", "1", "echo a{}; sleep 5; echo b", ":::", "1"]),
    (Same, None, &["-k", "--timeout", "10", "echo {}", ":::", "1", "2"]),
    (Same, None, &["-k", "--timeout", "1s", "sleep 9; echo {}", ":::", "1"]),
    // -j forms (parallel-local-3s.sh).
    (Same, Some("1\n2\n3\n"), &["-k", "--max-procs", "+0", "echo", "max", "proc"]),
    (Same, Some("1\n2\n3\n"), &["-k", "-P", "200%", "echo", "200%", "proc"]),
    (Same, None, &["-k", "-j0", "echo", ":::", "a", "b"]),
    (Same, None, &["-k", "-j", "-1", "echo", ":::", "a", "b"]),
    (Same, None, &["-k", "-j", "+1", "echo", ":::", "a", "b"]),
    (Same, None, &["-k", "-j", "50%", "echo", ":::", "a", "b"]),
    (Same, None, &["-k", "-j1", "echo", ":::", "a", "b"]),
    (Same, None, &["-k", "--jobs", "3", "echo", ":::", "a", "b"]),
    (Same, None, &["-k", "-P", "2", "echo", ":::", "a", "b"]),
    // -I and the no-append rule.
    (Same, None, &["-k", "-I", ",,", "echo", ",,", "{}", ":::", "a"]),
    (Same, None, &["-k", "-I", "XX", "echo", "aXXb", ":::", "1", "2"]),
    (Same, None, &["-k", "-I", "<>", "echo", "<>", "{.}", ":::", "a.b"]),
    (Same, Some("1\n2\n"), &["-k", "-I", "@", "sh", "-c", "echo @@"]),
    // Without -k: the same lines, in some order.
    (Sorted, None, &["echo", ":::", "a", "b", "c", "d"]),
    (Sorted, None, &["-j2", "echo", ":::", "a", "b", ":::", "1", "2"]),
    (Sorted, Some("1\n2\n3\n4\n5\n"), &["echo", "{}", "{#}"]),
    (Sorted, None, &["--shuf", "echo", ":::", "a", "b", "c", "d"]),
    (Sorted, None, &["--shuf", "-k", "echo", ":::", "1", "2", ":::", "x", "y"]),
    (Sorted, None, &["-j3", "sh", "-c", "'echo $0'", ":::", "a", "b", "c"]),
    (Sorted, None, &["--bar", "echo", ":::", "a", "b"]),
    (Sorted, None, &["--eta", "echo", ":::", "a", "b"]),
    (Sorted, None, &["--progress", "echo", ":::", "a", "b"]),
    // man parallel_tutorial: inputs and options.
    (Same, None, &["-k", "echo", "{2}", "{1}", ":::", "1", "2", ":::", "a", "b"]),
    (Same, None, &["-k", "echo", "::::", "nums", ":::", "x", "y"]),
    (Same, None, &["-k", "-a", "ab", "-a", "nums", "--link", "echo"]),
    (Same, None, &["-k", "--keep-order", "echo", ":::", "3", "1", "2"]),
    (Same, None, &["-k", "echo", ":::", "a", "b", ":::", "c", ":::+", "d"]),
    (Same, None, &["-k", "-N0", "echo", "foo", ":::", "1", "2"]),
    (Same, None, &["-k", "--results", "res", "echo", ":::", "a", "b"]),
    // man parallel_tutorial (src/parallel_tutorial.pod at 20221122), as its
    // test (testsuite/tests-to-run/parallel-tutorial.sh) runs them, with -k.
    (Same, None, &["-k", "echo", ":::", "A", "B", "C"]),
    (Same, None, &["-k", "-a", "abc-file", "echo"]),
    (Same, None, &["-k", "echo", ":::", "A", "B", "C", ":::", "D", "E", "F"]),
    (Same, None, &["-k", "-a", "abc-file", "-a", "def-file", "echo"]),
    (Same, None, &["-k", "echo", ":::", "A", "B", "C", "::::", "def-file"]),
    (Same, None, &["-k", "--link", "echo", ":::", "A", "B", "C", ":::", "D", "E", "F"]),
    (Same, None, &["-k", "--link", "echo", ":::", "A", "B", "C", "D", "E", ":::", "F", "G"]),
    (Same, None, &["-k", "echo", "::::", "abc-file", ":::+", "G", "H", "I", "::::", "def-file"]),
    (Same, None, &["-k", "echo", "::::", "abc-file", ":::", "G", "H", "I", "::::+", "def-file"]),
    (Same, None, &["-k", "echo", ":::", "A", "B", "C", "D", "E", ":::+", "F", "G"]),
    (Same, None, &["-k", "-d", "_", "echo", "::::", "abc_-file"]),
    (Same, None, &["-k", "-d", "\\0", "echo", "::::", "abc0-file"]),
    (Same, None, &["-k", ":::", "ls", "echo foo", "pwd"]),
    (Same, None, &["-k", "echo", ":::", "A/B.C"]),
    (Same, None, &["-k", "echo", "{.}", ":::", "A/B.C"]),
    (Same, None, &["-k", "echo", "{/}", ":::", "A/B.C"]),
    (Same, None, &["-k", "echo", "{//}", ":::", "A/B.C"]),
    (Same, None, &["-k", "echo", "{/.}", ":::", "A/B.C"]),
    (Same, None, &["-k", "echo", "{#}", ":::", "A", "B", "C"]),
    (Same, None, &["-k", "-I", ",,", "echo", ",,", ":::", "A/B.C"]),
    (Same, None, &["-k", "echo", "{1}", "and", "{2}", ":::", "A", "B", ":::", "C", "D"]),
    (Same, None, &["-k", "echo", "/={1/}", "//={1//}", "/.={1/.}", ".={1.}", ":::", "A/B.C", "D/E.F"]),
    (Same, None, &["-k", "echo", "1={1}", "2={2}", "3={3}", "-1={-1}", "-2={-2}", "-3={-3}", ":::", "A", "B", ":::", "C", "D", ":::", "E", "F"]),
    (Same, None, &["-k", "--colsep", "\\t", "echo", "1={1}", "2={2}", "::::", "tsv-file.tsv"]),
    (Same, None, &["-k", "--header", ":", "echo", "f1={f1}", "f2={f2}", ":::", "f1", "A", "B", ":::", "f2", "C", "D"]),
    (Same, None, &["-k", "--header", ":", "--colsep", "\\t", "echo", "f1={f1}", "f2={f2}", "::::", "tsv-file.tsv"]),
    (Same, None, &["-k", "--jobs", "4", "-m", "echo", ":::", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]),
    (Same, None, &["-k", "--jobs", "4", "-X", "echo", "pre-{}-post", ":::", "A", "B", "C", "D", "E", "F", "G"]),
    (Same, None, &["-k", "-N3", "echo", ":::", "A", "B", "C", "D", "E", "F", "G", "H"]),
    (Same, None, &["-k", "-N3", "echo", "1={1}", "2={2}", "3={3}", ":::", "A", "B", "C", "D", "E", "F", "G", "H"]),
    (Same, None, &["-k", "-N0", "echo", "foo", ":::", "1", "2", "3"]),
    (Same, None, &["-k", "perl", "-e", "print \"@ARGV\\n\"", ":::", "This", "wont", "work"]),
    (Same, None, &["-k", "-q", "perl", "-e", "print \"@ARGV\\n\"", ":::", "This", "works"]),
    (Same, None, &["-k", "perl -e 'print \"@ARGV\\n\"'", ":::", "This", "also", "works"]),
    (Same, None, &["-k", "echo", "={}", ":::", "zsh", "bash", "ls"]),
    (Same, None, &["-k", "--tag", "echo", "foo-{}", ":::", "A", "B", "C"]),
    (Same, None, &["-k", "--tagstring", "{}-bar", "echo", "foo-{}", ":::", "A", "B", "C"]),
    (Same, None, &["-k", "--dryrun", "echo", "{}", ":::", "A", "B", "C"]),
    (Same, None, &["-k", "-j2", "printf \"%s-start\\n%s\" {} {}; sleep {}; printf \"%s\\n\" -middle; echo {}-end", ":::", "1", "2"]),
    (Same, None, &["-k", "echo", "{}", ":::", "*/!#$"]),
    (Same, None, &["-k", "-j4", "echo", ":::", "1", "2", "3", ":::", "a"]),
    // Quoting as users write it: the words, the inputs, the shell.
    (Same, None, &["-k", "echo", "{}", ":::", "a b"]),
    (Same, None, &["-k", "echo", "{}", ":::", "a b"]),
    (Same, None, &["-k", "echo {}", ":::", "a b"]),
    (Same, None, &["-k", "echo \"{}\"", ":::", "a b"]),
    (Same, None, &["-k", "echo '{}'", ":::", "a b"]),
    (Same, None, &["-k", "echo", "{}{}", ":::", "a"]),
    (Same, None, &["-k", "echo", "{.}{/}", ":::", "a.b/c.d"]),
    (Same, None, &["-k", "echo {} | rev", ":::", "abc"]),
    (Same, None, &["-k", "cat {} | wc -l", ":::", "abc-file"]),
    (Same, None, &["-k", "wc", "-l", ":::", "abc-file", "def-file"]),
    (Same, None, &["-k", "test -e {} && echo yes", ":::", "abc-file", "nope"]),
    (Same, None, &["-k", "echo", "--", "{}", ":::", "-n"]),
    (Same, None, &["-k", "echo", ":::", "a\"b", "a'b", "a\\b", "a$b", "a`b", "a!b"]),
    (Same, None, &["-k", "echo $0", ":::", "x"]),
    (Same, None, &["-k", "sh", "-c", "echo $0", ":::", "x"]),
    (Same, None, &["-k", "echo", "{1}", ":::", "a", ":::", "b"]),
    (Same, None, &["-k", "echo", "{2}", ":::", "a", ":::", "b"]),
    (Same, None, &["-k", "echo {1}; echo {2}", ":::", "a", ":::", "b"]),
    (Same, None, &["-k", "--colsep", ",", "echo {1}; echo {2}", ":::", "a,b"]),
    (Same, None, &["-k", "-N2", "echo {1} {2}", ":::", "a b", "c"]),
    (Same, None, &["-k", "echo", "{}", ":::", "ü", "ß", "日本"]),
    (Same, None, &["-k", "printf \"%s|\" {}", ":::", "a", "b"]),
    (Same, None, &["-k", "true {}; echo done", ":::", "a"]),
    (Same, None, &["-k", "echo", "{#}", "{}", ":::", "a", "b"]),
    (Same, None, &["-k", "-I", "{}", "echo", "{}", ":::", "a"]),
    (Same, None, &["-k", "-I", "X", "echo", "X{}X", ":::", "a"]),
    (Same, None, &["-k", "for f in {}; do echo $f; done", ":::", "a b"]),
    (Same, None, &["-k", "export X={}; sh -c \"echo \\$X\"", ":::", "a b"]),
    (Same, None, &["-k", "[ \"{}\" = \"a b\" ] && echo eq", ":::", "a b"]),
    (Same, None, &["-k", "echo {} >/dev/null; echo ok", ":::", "x"]),
    (Same, Some("a b\n\"q\"\n$x\n"), &["-k", "-j1", "echo"]),
    (Same, Some("a b\n\"q\"\n$x\n"), &["-k", "-j1", "echo", "{}"]),
    (Same, Some("a b\n\"q\"\n$x\n"), &["-k", "-j1", "echo {}"]),
    (Same, Some("a b\n\"q\"\n$x\n"), &["-k", "-j1", "-N2", "echo"]),
    (Same, Some("a b\n\"q\"\n$x\n"), &["-k", "-j1", "--colsep", " ", "echo", "{2}"]),
    (Same, Some("a b\n\"q\"\n$x\n"), &["-k", "-j1", "-m", "echo"]),
    (Same, Some("a b\n\"q\"\n$x\n"), &["-k", "-j1", "-X", "echo", "x{}"]),
    // GNU parallel's options mproc run refuses, naming its way.
    (Refused, Some("a\n"), &["--pipe", "cat"]),
    (Refused, None, &["-S", "host", "echo", ":::", "a"]),
    (Refused, None, &["--delay", "1", "echo", ":::", "a"]),
    (Refused, None, &["--line-buffer", "echo", ":::", "a"]),
    (Refused, None, &["--plus", "echo", "{+/}", ":::", "a/b"]),
    (Refused, None, &["echo", "{= s/a/b/ =}", ":::", "a"]),
    (Refused, None, &["--halt", "soon,fail=3", "echo", ":::", "a"]),
    (Refused, None, &["--halt", "-1", "echo", ":::", "a"]),
    (Refused, None, &["-k", "-C", "%+", "echo", "{1}", ":::", "a%b"]),
    (Refused, None, &["--timeout", "200%", "echo", ":::", "a"]),
    (Refused, None, &["-t", "echo", ":::", "a"]),
    (Refused, None, &["-p", "echo", ":::", "a"]),
    (Refused, None, &["--env", "X", "echo", ":::", "a"]),
    (Refused, None, &["-L", "2", "echo", ":::", "a"]),
    (Refused, None, &["-u", "echo", ":::", "a"]),
    (Refused, None, &["--verbose", "echo", ":::", "a"]),
];

/// Jobs that echo and exit with their argument: at once for the first N,
/// 3 s later for the rest.
const HALT_AFTER_1: &str = "[ {#} -gt 1 ] && sleep 3; echo {}; exit {}";
const HALT_AFTER_2: &str = "[ {#} -gt 2 ] && sleep 3; echo {}; exit {}";
const HALT_AFTER_3: &str = "[ {#} -gt 3 ] && sleep 3; echo {}; exit {}";
const HALT_AFTER_4: &str = "[ {#} -gt 4 ] && sleep 3; echo {}; exit {}";

/// `seq 200`.
const SEQ_200: &str = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n\
21\n22\n23\n24\n25\n26\n27\n28\n29\n30\n31\n32\n33\n34\n35\n36\n37\n38\n39\n40\n41\n42\n43\n44\n\
45\n46\n47\n48\n49\n50\n51\n52\n53\n54\n55\n56\n57\n58\n59\n60\n61\n62\n63\n64\n65\n66\n67\n68\n\
69\n70\n71\n72\n73\n74\n75\n76\n77\n78\n79\n80\n81\n82\n83\n84\n85\n86\n87\n88\n89\n90\n91\n92\n\
93\n94\n95\n96\n97\n98\n99\n100\n101\n102\n103\n104\n105\n106\n107\n108\n109\n110\n111\n112\n\
113\n114\n115\n116\n117\n118\n119\n120\n121\n122\n123\n124\n125\n126\n127\n128\n129\n130\n131\n\
132\n133\n134\n135\n136\n137\n138\n139\n140\n141\n142\n143\n144\n145\n146\n147\n148\n149\n150\n\
151\n152\n153\n154\n155\n156\n157\n158\n159\n160\n161\n162\n163\n164\n165\n166\n167\n168\n169\n\
170\n171\n172\n173\n174\n175\n176\n177\n178\n179\n180\n181\n182\n183\n184\n185\n186\n187\n188\n\
189\n190\n191\n192\n193\n194\n195\n196\n197\n198\n199\n200\n";

/// Deliberate improvements: what mproc does, and why, for the record
/// (docs/RUN.md lists them). Each is checked against mproc alone.
const IMPROVEMENTS: &[(&str, &[&str], &str)] = &[
    (
        "an argument with a newline stays one argument (GNU parallel makes it two jobs)",
        &["-k", "printf", "[%s]", ":::", "a\nb"],
        "[a\nb]",
    ),
    (
        "in --results folders an input '..' cannot name a folder outside DIR",
        &["-k", "--results", "r2", "echo", ":::", ".."],
        "",
    ),
    (
        "an argument longer than GNU parallel's line limit (about 128 KiB) runs: Linux's \
         own limit per argument is what counts",
        &[
            "-k",
            "-q",
            "sh",
            "-c",
            "printf %s \"$0\" | wc -c",
            ":::",
            "LONG",
        ],
        "100000\n",
    ),
];

fn have_parallel() -> bool {
    Command::new("parallel")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `cmd` in `dir` with `stdin`, bounded in time: (stdout, code, stderr).
fn run_in(mut cmd: Command, dir: &Path, stdin: Option<&str>) -> (String, i32, String) {
    cmd.current_dir(dir)
        .env("HOME", dir)
        .env_remove("PARALLEL")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("starts");
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(text.as_bytes()).unwrap();
    }
    let out = wait_bounded(&mut child, 120);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn fixtures(dir: &Path) {
    std::fs::write(dir.join("nums"), "1\n2\n3\n").unwrap();
    std::fs::write(dir.join("ab"), "a\nb\n").unwrap();
    std::fs::write(dir.join("tab.tsv"), "def\tabc\njkl\tghi\n").unwrap();
    std::fs::write(dir.join("h.csv"), "x,y\n1,2\n3,4\n").unwrap();
    // The tutorial's files.
    std::fs::write(dir.join("abc-file"), "A\nB\nC\n").unwrap();
    std::fs::write(dir.join("def-file"), "D\nE\nF\n").unwrap();
    std::fs::write(dir.join("abc_-file"), "A_B_C_").unwrap();
    std::fs::write(dir.join("abc0-file"), "A\0B\0C\0").unwrap();
    std::fs::write(dir.join("tsv-file.tsv"), "f1\tf2\nA\tB\nC\tD\n").unwrap();
}

fn sorted(s: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = s.lines().collect();
    lines.sort_unstable();
    lines
}

#[test]
fn mproc_run_does_what_gnu_parallel_does() {
    if !have_parallel() {
        println!("skipped: parallel not installed");
        return;
    }
    // Two halves at once, each in its own folder.
    let (first, second) = CASES.split_at(CASES.len() / 2);
    let other = std::thread::spawn(move || compare(second, "gnu-compare-2"));
    let (mut failures, mut same) = compare(first, "gnu-compare-1");
    let (more, count) = other.join().expect("the other half ran");
    failures.extend(more);
    same += count;
    assert!(
        failures.is_empty(),
        "{} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(same >= 150, "only {same} cases compared");
    println!("{same} command lines identical to GNU parallel's");
}

#[test]
fn the_deliberate_improvements_hold() {
    let dir = temp_dir("gnu-better");
    for (why, args, want) in IMPROVEMENTS {
        let long = "x".repeat(100_000);
        let args: Vec<&str> = args
            .iter()
            .map(|a| if *a == "LONG" { long.as_str() } else { a })
            .collect();
        let mut ours = mproc();
        ours.arg("run").args(&args);
        let (out, code, err) = run_in(ours, dir.path(), None);
        assert_eq!((out.as_str(), code), (*want, 0), "{why}: {err}");
    }
    let inside = dir.path().join("r2/1/\\.\\./stdout");
    assert!(inside.is_file(), "{}", inside.display());
}

/// GNU parallel resumes from mproc's job log and mproc from GNU's: each
/// skips the jobs the other recorded.
#[test]
fn job_logs_are_read_by_both_tools() {
    if !have_parallel() {
        println!("skipped: parallel not installed");
        return;
    }
    let dir = temp_dir("gnu-joblog");
    let args = [
        "-k",
        "--joblog",
        "log",
        "echo {}; exit {}",
        ":::",
        "0",
        "1",
        "0",
    ];
    let resume = [
        "-k",
        "--resume",
        "--joblog",
        "log",
        "echo {}; exit {}",
        ":::",
        "0",
        "1",
        "0",
        "2",
    ];
    let failed = [
        "-k",
        "--resume-failed",
        "--joblog",
        "log",
        "echo {}; exit {}",
        ":::",
        "0",
        "1",
        "0",
        "2",
    ];
    for (first, second) in [("mproc", "parallel"), ("parallel", "mproc")] {
        let tool = |name: &str| {
            if name == "mproc" {
                let mut c = mproc();
                c.arg("run");
                c
            } else {
                Command::new("parallel")
            }
        };
        let _ = std::fs::remove_file(dir.path().join("log"));
        let mut c = tool(first);
        c.args(args);
        let (out, code, _) = run_in(c, dir.path(), None);
        assert_eq!((out.as_str(), code), ("0\n1\n0\n", 1), "{first}");
        let log = std::fs::read_to_string(dir.path().join("log")).unwrap();
        assert!(
            log.starts_with(
                "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n"
            ),
            "{log}"
        );
        let mut c = tool(second);
        c.args(resume);
        let (out, code, err) = run_in(c, dir.path(), None);
        assert_eq!(
            (out.as_str(), code),
            ("2\n", 1),
            "{second} --resume after {first}: {err}"
        );
        let mut c = tool(second);
        c.args(failed);
        let (out, code, err) = run_in(c, dir.path(), None);
        assert_eq!(
            (out.as_str(), code),
            ("1\n2\n", 2),
            "{second} --resume-failed after {first}: {err}"
        );
    }
}

/// Runs `cases` with both tools in a fresh folder: the differences, and
/// how many were the same.
fn compare(cases: &[Case], name: &str) -> (Vec<String>, usize) {
    let dir = temp_dir(name);
    fixtures(dir.path());
    let mut failures = Vec::new();
    let mut same = 0;
    for (kind, stdin, args) in cases {
        let mut ours = mproc();
        ours.arg("run").args(*args);
        let (out, code, err) = run_in(ours, dir.path(), *stdin);
        if *kind == Refused {
            if code != 2 || err.trim().lines().count() != 1 {
                failures.push(format!("{args:?}: not refused (exit {code}): {err}"));
            }
            continue;
        }
        let mut gnu = Command::new("parallel");
        gnu.args(*args);
        let (want, want_code, _) = run_in(gnu, dir.path(), *stdin);
        let equal = match kind {
            Sorted => sorted(&out) == sorted(&want),
            _ => out == want,
        };
        if equal && code == want_code {
            same += 1;
        } else {
            failures.push(format!(
                "{args:?} stdin {stdin:?}:\n  gnu   ({want_code}): {want:?}\n  mproc ({code}): \
                 {out:?}\n  mproc stderr: {err}"
            ));
        }
    }
    (failures, same)
}

/// Every file under `dir`, relative, with its contents (mproc's extra
/// `exit` files left out).
fn tree(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n != "exit") {
                let rel = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.push((rel, std::fs::read_to_string(&path).unwrap_or_default()));
            }
        }
    }
    out.sort();
    out
}

/// `--results DIR` writes the same folders and files as GNU parallel's.
#[test]
fn results_folders_are_gnu_parallels() {
    if !have_parallel() {
        println!("skipped: parallel not installed");
        return;
    }
    let dir = temp_dir("gnu-results");
    let cases: &[&[&str]] = &[
        &["echo {}; echo e{} >&2", ":::", "a/b", "c d", "x\\y"],
        &["echo", ":::", "a", "b", ":::", "1", "2"],
        &[
            "--header", ":", "echo", ":::", "foo", "x", ":::", "bar", "y",
        ],
        &["exit {}", ":::", "0", "3"],
    ];
    for args in cases {
        let _ = std::fs::remove_dir_all(dir.path().join("g"));
        let _ = std::fs::remove_dir_all(dir.path().join("m"));
        let mut gnu = Command::new("parallel");
        gnu.args(["--results", "g"]).args(*args);
        let (_, gnu_code, _) = run_in(gnu, dir.path(), None);
        let mut ours = mproc();
        ours.args(["run", "--results", "m"]).args(*args);
        let (out, code, err) = run_in(ours, dir.path(), None);
        assert_eq!((code, out.as_str()), (gnu_code, ""), "{args:?}: {err}");
        assert_eq!(
            tree(&dir.path().join("m")),
            tree(&dir.path().join("g")),
            "{args:?}"
        );
    }
}

/// The job log's columns other than the times are GNU parallel's.
#[test]
fn job_log_lines_are_gnu_parallels() {
    if !have_parallel() {
        println!("skipped: parallel not installed");
        return;
    }
    let dir = temp_dir("gnu-joblog-lines");
    let args = [
        "-k",
        "--timeout",
        "1",
        "--joblog",
        "-",
        "{}",
        ":::",
        "exit 0",
        "exit 3",
        "kill -9 $$",
        "echo 'a b'",
        "no-such-program-x",
        "sleep 5",
    ];
    // Seq, Host, Send, Receive (GNU counts received bytes of a job killed
    // at --timeout; mproc does not), Exitval, Signal, Command.
    let columns = |out: &str| -> Vec<String> {
        let mut rows: Vec<String> = out
            .lines()
            .filter(|l| l.contains('\t'))
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                [f[0], f[1], f[4], f[6], f[7], f[8]].join("\t")
            })
            .collect();
        rows.sort();
        rows
    };
    let mut gnu = Command::new("parallel");
    gnu.args(args);
    let (gnu, gnu_code, _) = run_in(gnu, dir.path(), None);
    let mut ours = mproc();
    ours.arg("run").args(args);
    let (out, code, err) = run_in(ours, dir.path(), None);
    assert_eq!(code, gnu_code, "{err}");
    assert_eq!(columns(&out), columns(&gnu), "{err}");
}
