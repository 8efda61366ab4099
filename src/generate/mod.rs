//! Generated input data for the exercises: deterministic for a seed, so a
//! run can be repeated byte for byte. Knows nothing about the command line.

pub mod text;
