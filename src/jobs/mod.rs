//! The jobs the `mproc` command line runs. Each lives in its own file and
//! knows nothing about pipes or processes: it maps one input to one output.

pub mod analyze;
pub mod chaos;
pub mod excel;
pub mod fetch;
pub mod isolation;
pub mod load;
pub mod square;

pub use analyze::Analyze;
pub use chaos::Chaos;
pub use excel::{BookSum, ExcelSum};
pub use fetch::Fetch;
pub use isolation::Isolation;
pub use load::{Load, LoadPart, LoadSum};
pub use square::Square;

use crate::registry::Registry;

/// Adds every built-in job to `registry`.
pub(crate) fn register_builtin(registry: Registry) -> Registry {
    registry
        .register::<Square>()
        .register::<Load>()
        .register::<Chaos>()
        .register::<Isolation>()
        .register::<Analyze>()
        .register::<ExcelSum>()
        .register::<Fetch>()
}
