//! How this program asks glibc's allocator to treat large blocks.
//!
//! By default glibc gives each block of 128 KB or more a mapping of its
//! own and hands freed memory at the top of a heap back to the system
//! once more than twice that is free. A run decodes, keeps and frees
//! results a chunk at a time (a chunk of a million tiny items decodes to
//! about 200 KB), so the same pages were mapped, faulted in and given
//! back again and again: on this project's build machine a page fault
//! costs about 2 us. The command line (parent and workers alike) serves
//! blocks below 32 MB from its heaps and keeps up to 64 MB it freed for
//! reuse. The library (`crates/mproc`) leaves the allocator to the
//! program that uses it.

/// Serves blocks below 32 MB from the heaps and keeps up to 64 MB of freed
/// memory (glibc only; elsewhere nothing changes).
pub(crate) fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets two of the allocator's parameters; it is
    // called first thing, before this process starts any thread.
    unsafe {
        nix::libc::mallopt(nix::libc::M_MMAP_THRESHOLD, 32 << 20);
        nix::libc::mallopt(nix::libc::M_TRIM_THRESHOLD, 64 << 20);
    }
}
