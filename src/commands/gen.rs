//! `mproc gen ...`: write generated input data.

use std::time::Instant;

use super::Status;
use crate::errors::io_message;
use crate::generate::text::{self, TextSpec};
use crate::options::GenCommand;
use crate::report::count;
use mproc::{Error, ErrorKind, Result};

pub(super) fn run(cmd: GenCommand) -> Result<Status> {
    match cmd {
        GenCommand::Text {
            dir,
            files,
            rows,
            seed,
        } => {
            let start = Instant::now();
            let spec = TextSpec { files, rows, seed };
            let bytes = text::write_files(&dir, &spec).map_err(|(path, e)| {
                Error::new(
                    ErrorKind::Io,
                    format!("cannot write {}: {}", path.display(), io_message(&e)),
                )
            })?;
            tracing::info!(
                "wrote {}, {}, to {} in {:.3} s",
                count(files, "file"),
                count(bytes, "byte"),
                dir.display(),
                start.elapsed().as_secs_f64()
            );
            Ok(Status::OK)
        }
        #[cfg(feature = "excel")]
        GenCommand::Excel { spec, json } => super::gen_excel::run(&spec, json),
    }
}
