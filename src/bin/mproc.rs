//! The `mproc` executable: all of it lives in the library.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(mproc_cli::run(std::env::args_os()))
}
