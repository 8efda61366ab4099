//! The crate's hard limits on what a pool starts: a leaf, so that the
//! settings, the placement of workers and the pool can all read them
//! without importing one another.

/// The most worker processes one pool starts. Each worker costs a process,
/// three pipe threads in the parent and a few descriptors; past this the
/// machine runs out of those long before it runs faster.
pub const MAX_PROCESSES: usize = 4096;

/// The most items one worker runs at once
/// ([`PoolSettings::concurrency`](crate::PoolSettings::concurrency)).
/// Each is a thread with its own stack in the worker, and each holds at
/// least one descriptor while it runs (a connection, a command's pipes):
/// past 1024, the default soft limit on open descriptors
/// (`RLIMIT_NOFILE`), items fail for want of descriptors rather than run
/// sooner, and a few such workers exhaust the kernel's process table
/// (`pid_max`, 32768 by default, counts threads).
pub const MAX_CONCURRENCY: u32 = 1024;
