//! The tutorial's pages (docs/tutorial/*.md) are run: every command shown
//! there must print what the page says (pids and times masked as `[..]`).

#[test]
fn every_command_in_the_tutorial_prints_what_the_page_shows() {
    trycmd::TestCases::new()
        .register_bin("mproc", trycmd::cargo::cargo_bin!("mproc"))
        .case("docs/tutorial/*.md");
}
