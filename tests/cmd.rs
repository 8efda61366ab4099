//! The help texts and usage errors a newcomer meets, run as trycmd cases
//! (`tests/cmd/*.toml`): each runs the real `mproc` with its `args` and
//! compares stdout, stderr and the exit code (`...` stands for any lines,
//! `[..]` for the rest of a line). `TRYCMD=overwrite` rewrites them.

#[test]
fn help_texts_and_usage_hints_read_as_the_cases_show() {
    trycmd::TestCases::new()
        .register_bin("mproc", trycmd::cargo::cargo_bin!("mproc"))
        .case("tests/cmd/*.toml");
}
