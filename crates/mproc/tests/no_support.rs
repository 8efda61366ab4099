//! A test binary that makes a pool without `enable_test_support!`: its
//! workers are copies of the test harness, which prints `running 0 tests`
//! where the handshake's frame belongs. The error says so in one line,
//! naming the macro and the feature.

use std::time::Duration;

#[derive(serde::Serialize, serde::Deserialize)]
struct Double;

impl mproc::Job for Double {
    const NAME: &'static str = "double";
    type Input = u64;
    type Output = u64;

    fn run(&self, x: u64) -> Result<u64, mproc::JobError> {
        Ok(2 * x)
    }
}

#[test]
fn a_pool_in_a_test_binary_without_test_support_names_the_macro() {
    let pool = mproc::Pool::builder()
        .processes(1)
        .start_timeout(Duration::from_secs(60))
        .build();
    let error = match pool {
        Err(e) => e.to_string(),
        Ok(pool) => {
            let results = pool.map(&Double, [1u64]);
            results[0].outcome.error().unwrap_or_default()
        }
    };
    assert!(
        error.contains("wrote text where frames belong (\"\\nrunning ")
            && error.contains("mproc::enable_test_support!(")
            && error.contains("feature \"test-support\""),
        "{error}"
    );
    assert_eq!(error.lines().count(), 1, "{error}");
}
