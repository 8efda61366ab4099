//! Tests of [`super::Template`]: the lines GNU parallel 20221122 builds.

use super::*;

fn words(ws: &[&str]) -> Vec<Vec<u8>> {
    ws.iter().map(|w| w.as_bytes().to_vec()).collect()
}

fn nums(seq: u64) -> Nums {
    Nums { seq, slot: 2 }
}

fn opts() -> LineOptions {
    LineOptions {
        shell: "sh".into(),
        ..LineOptions::default()
    }
}

fn template(ws: &[&str], o: &LineOptions) -> Template {
    Template::parse(&words(ws), o).unwrap()
}

fn strings(v: Vec<OsString>) -> Vec<String> {
    v.into_iter().map(|a| a.into_string().unwrap()).collect()
}

fn argv(ws: &[&str], input: &str) -> Vec<String> {
    strings(template(ws, &opts()).argv(&[input.as_bytes().to_vec()], nums(7)))
}

fn line_of(ws: &[&str], o: &LineOptions, args: &[&str]) -> String {
    let args: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
    String::from_utf8(template(ws, o).line(&args, nums(3))).unwrap()
}

#[test]
fn replacement_strings_follow_gnu_parallel() {
    // Checked against GNU parallel 20221122.
    for (input, want) in [
        ("a/b.c/d", "a/b.c/d a/b.c/d d a/b.c d"),
        ("foo.tar.gz", "foo.tar.gz foo.tar foo.tar.gz . foo.tar"),
        (".bashrc", ".bashrc  .bashrc . "),
        ("a/.b", "a/.b a/ .b a "),
        ("x.", "x. x x. . x"),
        ("dir/", "dir/ dir/  . "),
        ("/x", "/x /x x / x"),
        ("a//b", "a//b a//b b a b"),
        ("/", "/ /  / "),
        ("a/b/", "a/b/ a/b/  a "),
    ] {
        let got: Vec<String> = [
            Repl::Whole,
            Repl::NoExt,
            Repl::Base,
            Repl::Dir,
            Repl::BaseNoExt,
        ]
        .iter()
        .map(|r| String::from_utf8(apply(*r, input.as_bytes())).unwrap())
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
fn shell_syntax_runs_through_the_shell_quoted_as_gnu_quotes() {
    assert_eq!(
        argv(&["echo {} | wc -c"], "a b; rm -rf x"),
        ["sh", "-c", "echo 'a b; rm -rf x' | wc -c"]
    );
    assert_eq!(
        argv(&["cd", "{//}"], "it's/f"),
        ["sh", "-c", "cd 'it'\"'\"'s'"]
    );
    assert_eq!(argv(&["echo", "$X"], ""), ["sh", "-c", "echo $X ''"]);
    assert_eq!(quote(b"'a'"), b"\"'\"'a'\"'\"");
    assert_eq!(quote(b"a,b"), b"'a,b'");
    assert_eq!(quote(b"a-b_c.d+e/f"), b"a-b_c.d+e/f");
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
fn unknown_replacement_strings_and_perl_are_refused() {
    for bad in ["{..}", "x{1#}", "{0}", "{= s/a/b/ =}"] {
        let e = Template::parse(&words(&["echo", bad]), &opts()).unwrap_err();
        assert!(
            e.contains("replacement string") || e.contains("{%}") || e.contains("Perl"),
            "{bad}: {e}"
        );
    }
}

#[test]
fn several_arguments_positional_and_context() {
    let o = opts();
    assert_eq!(
        line_of(&["echo", "{1}", "{2}", "{-1}"], &o, &["a", "b c"]),
        "echo a 'b c' 'b c'"
    );
    assert_eq!(line_of(&["echo", "{3}", "x"], &o, &["a"]), "echo  x");
    assert_eq!(line_of(&["echo", "x{}y"], &o, &["a", "b"]), "echo xa by");
    let x = LineOptions {
        context: true,
        ..opts()
    };
    assert_eq!(line_of(&["echo", "x{}y"], &x, &["a", "b"]), "echo xay xby");
    assert_eq!(line_of(&["echo"], &o, &["a", "b"]), "echo a b");
    let t = template(&["echo", "{3}", "x{}y"], &o);
    assert_eq!(
        strings(t.argv(&[b"a".to_vec(), b"b".to_vec()], nums(1))),
        ["echo", "xa", "by"]
    );
    let t = template(&["echo", "x{}y"], &x);
    assert_eq!(
        strings(t.argv(&[b"a".to_vec(), b"b".to_vec()], nums(1))),
        ["echo", "xay", "xby"]
    );
}

#[test]
fn no_command_runs_the_arguments_and_q_quotes_the_words() {
    assert_eq!(line_of(&[], &opts(), &["echo a", "b"]), "echo a b");
    let q = LineOptions {
        quote: true,
        ..opts()
    };
    let t = template(&["perl", "-e", "print \"x$ARGV[0]\\n\""], &q);
    assert_eq!(
        strings(t.argv(&[b"a".to_vec()], nums(1))),
        ["perl", "-e", "print \"x$ARGV[0]\\n\"", "a"]
    );
    assert_eq!(
        String::from_utf8(t.line(&[b"a b".to_vec()], nums(1))).unwrap(),
        "perl -e 'print \"x$ARGV[0]\\n\"' 'a b'"
    );
    let i = LineOptions {
        replace: Some(b",".to_vec()),
        ..opts()
    };
    assert_eq!(line_of(&["echo", ",", "{}"], &i, &["a"]), "echo a {}");
    let h = LineOptions {
        header: vec![b"foo".to_vec()],
        ..opts()
    };
    assert_eq!(line_of(&["echo", "{foo}"], &h, &["1"]), "echo 1");
}

#[test]
fn no_shell_substitutes_without_quoting() {
    let o = LineOptions {
        no_shell: true,
        ..opts()
    };
    let t = Template::parse(&words(&["echo", "<{}>"]), &o).unwrap();
    assert!(!t.shell());
    assert_eq!(
        strings(t.argv(&[b"a'b".to_vec()], nums(1))),
        ["echo", "<a'b>"]
    );
}

#[test]
fn the_job_slot_and_number() {
    let t = template(&["echo", "{%}", "{#}"], &opts());
    assert!(t.uses_slot());
    assert_eq!(
        strings(t.argv(&[b"a".to_vec()], nums(5))),
        ["echo", "2", "5"]
    );
}

#[test]
fn a_replacement_string_in_the_command_quotes_nothing() {
    // parallel {} ::: "echo a b"; parallel {} {} ::: "echo 1"
    let o = opts();
    assert_eq!(line_of(&["{}"], &o, &["echo a   b"]), "echo a   b");
    assert_eq!(line_of(&["{}", "{}"], &o, &["echo 1"]), "echo 1 echo 1");
    assert_eq!(line_of(&["my_{}", "x y"], &o, &["a b"]), "my_a b x y");
    assert_eq!(line_of(&["V={}", "cmd"], &o, &["a b"]), "V='a b' cmd");
    assert!(template(&["{}"], &o).shell());
}
