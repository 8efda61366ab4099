mod analyze;
mod support;
