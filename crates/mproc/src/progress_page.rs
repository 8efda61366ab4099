//! The progress page: one shared memory word per local worker, where the
//! worker publishes which item it is running, so that the parent knows
//! exactly which item a dead worker was running without the worker writing
//! anything per item to its pipe.
//!
//! The parent makes the page (a `memfd`, close-on-exec), maps it, and names
//! its descriptor to the child in [`PROGRESS_ENV`]; the child opens it as
//! `/proc/PARENT/fd/N` (so the child is started with `posix_spawn`, which
//! hands over no descriptor but the standard ones). The worker maps it
//! too and stores `(chunk << 24) | (offset + 1)` before each item and `0`
//! after its chunk: one atomic store per item, no system call. When the
//! worker dies, the parent reads the word: the item it names was running.
//!
//! Workers behind a launcher or on another host have no page; they report
//! each item on the stream instead (see `Request::Configure::report_each`).

use std::num::NonZeroUsize;
use std::os::fd::{AsRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

use nix::sys::mman::{mmap, munmap, MapFlags, ProtFlags};

use crate::error::{Error, ErrorKind, Result};

/// The environment variable that tells a worker its progress page's fd.
pub(crate) const PROGRESS_ENV: &str = "MPROC_PROGRESS_FD";

/// Bits of the word that hold the item's offset plus one.
const OFFSET_BITS: u32 = 24;

const PAGE: usize = 4096;

/// A mapped progress page.
pub(crate) struct Page {
    fd: OwnedFd,
    word: NonNull<AtomicU64>,
}

// SAFETY: the page is only accessed through the `AtomicU64` it holds, which
// is safe to share between threads; the mapping lives as long as `Page`.
unsafe impl Send for Page {}
// SAFETY: as above.
unsafe impl Sync for Page {}

/// The item a page names: which chunk, and which item's offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Running {
    pub chunk: u64,
    pub offset: u32,
}

impl Page {
    /// A new, zeroed page for one worker.
    pub(crate) fn create() -> Result<Page> {
        use nix::sys::memfd::{memfd_create, MFdFlags};
        let fd = memfd_create(c"mproc-progress", MFdFlags::MFD_CLOEXEC).map_err(|e| {
            Error::new(
                ErrorKind::Spawn,
                format!("cannot make a progress page: {e}"),
            )
        })?;
        nix::unistd::ftruncate(&fd, PAGE as i64).map_err(|e| {
            Error::new(
                ErrorKind::Spawn,
                format!("cannot size a progress page: {e}"),
            )
        })?;
        Page::map(fd)
    }

    /// Maps the page this worker was given, if it was given one: the
    /// parent named its descriptor, which this worker opens through
    /// `/proc/PARENT/fd/N` (a memfd opened there is the same memory).
    /// Takes the variable out of the environment so that programs a job
    /// starts do not see it.
    pub(crate) fn inherited(parent: i32) -> Option<Page> {
        let value = std::env::var(PROGRESS_ENV).ok();
        std::env::remove_var(PROGRESS_ENV);
        let fd: u32 = value?.parse().ok()?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(format!("/proc/{parent}/fd/{fd}"))
            .ok()?;
        Page::map(OwnedFd::from(file)).ok()
    }

    fn map(fd: OwnedFd) -> Result<Page> {
        let len = NonZeroUsize::new(PAGE).unwrap_or(NonZeroUsize::MIN);
        // SAFETY: a fresh shared mapping of a file we own; no existing
        // memory is replaced (no fixed address).
        let ptr = unsafe {
            mmap(
                None,
                len,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
                &fd,
                0,
            )
        }
        .map_err(|e| Error::new(ErrorKind::Spawn, format!("cannot map a progress page: {e}")))?;
        Ok(Page {
            fd,
            word: ptr.cast::<AtomicU64>(),
        })
    }

    fn word(&self) -> &AtomicU64 {
        // SAFETY: the mapping is page-aligned, at least 8 bytes long, and
        // mapped for as long as `self` lives.
        unsafe { self.word.as_ref() }
    }

    /// Worker side: item `offset` of chunk `chunk` starts now.
    pub(crate) fn begin(&self, chunk: u64, offset: u32) {
        let word = (chunk << OFFSET_BITS) | (u64::from(offset) + 1);
        self.word().store(word, Ordering::Release);
    }

    /// Worker side: no item is running.
    pub(crate) fn idle(&self) {
        self.word().store(0, Ordering::Release);
    }

    /// Parent side: the item the worker was running, if any.
    pub(crate) fn running(&self) -> Option<Running> {
        let word = self.word().load(Ordering::Acquire);
        let offset = word & ((1 << OFFSET_BITS) - 1);
        (offset != 0).then(|| Running {
            chunk: word >> OFFSET_BITS,
            offset: (offset - 1) as u32,
        })
    }

    /// The descriptor's number in this process, which a local worker opens
    /// through `/proc`.
    pub(crate) fn raw_fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `map`; no reference
        // into it outlives `self`.
        unsafe {
            let _ = munmap(self.word.cast(), PAGE);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_names_the_running_item_and_idles() {
        let page = Page::create().unwrap();
        assert_eq!(page.running(), None);
        page.begin(7, 0);
        assert_eq!(
            page.running(),
            Some(Running {
                chunk: 7,
                offset: 0
            })
        );
        page.begin(1 << 30, 1234);
        assert_eq!(
            page.running(),
            Some(Running {
                chunk: 1 << 30,
                offset: 1234
            })
        );
        page.idle();
        assert_eq!(page.running(), None);
    }
}
