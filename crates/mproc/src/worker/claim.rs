//! Which items of a running chunk its runner starts, and which the
//! reading thread takes back: a [`Claim`] decides each item exactly once.
//!
//! The runner owns the chunk and starts its items in order; the reading
//! thread may take back, once, every item not yet started
//! (`Request::Take`). Each item must end up on exactly one side.
//!
//! A read-modify-write per item (`fetch_add` on a shared counter) decides
//! that, but on x86 each one drains the store buffer: a million tiny items
//! spent a tenth of their worker's time there. So, where the kernel
//! offers `membarrier(2)`, the two sides split the cost unevenly, as an
//! asymmetric Dekker lock does:
//!
//! - the runner, per item, stores "started up to i" and then reads the
//!   stop flag, with nothing between them but a compiler fence;
//! - the taker, once, sets the stop flag, has the kernel run a full
//!   barrier on every thread of the process (`MEMBARRIER_CMD_PRIVATE_EXPEDITED`),
//!   then reads how far the runner started, and publishes that as the cut.
//!
//! After the barrier, either the runner's store of "started up to i" is
//! visible to the taker (so the cut is past i and the runner runs i), or
//! the runner's later read of the flag sees it set: then the runner waits
//! for the cut, a few microseconds away, and runs i only if the cut is past
//! it. No item is run and taken both, and none is lost.
//!
//! Where `membarrier` cannot be registered, each item is claimed with
//! `fetch_add` and a take is a `swap`, as before.

use std::sync::atomic::{compiler_fence, AtomicBool, AtomicU32, Ordering};
use std::sync::OnceLock;

/// No cut decided yet.
const UNDECIDED: u32 = u32::MAX;

/// The shared half of a running chunk's claim: what the runner started,
/// and what a take decided.
#[derive(Debug)]
pub(super) struct Claim {
    /// Items started so far (asymmetric mode); the next item to claim
    /// (read-modify-write mode).
    started: AtomicU32,
    /// A take has begun (asymmetric mode).
    stop: AtomicBool,
    /// Items from here on were taken back; [`UNDECIDED`] until a take.
    cut: AtomicU32,
    /// The chunk's items.
    count: u32,
    /// Whether the two sides use the stop flag and a barrier (else a
    /// read-modify-write per item).
    asymmetric: bool,
}

impl Claim {
    /// The claim of a chunk of `count` items, in this process's mode.
    pub(super) fn new(count: u32) -> Claim {
        Claim::in_mode(count, asymmetric())
    }

    fn in_mode(count: u32, asymmetric: bool) -> Claim {
        Claim {
            started: AtomicU32::new(0),
            stop: AtomicBool::new(false),
            cut: AtomicU32::new(UNDECIDED),
            count,
            asymmetric,
        }
    }

    /// Takes back the items no runner started: the first one's offset, or
    /// `None` when there were none (or a take came before). Called with
    /// the queue's lock held, so takes of one chunk come one at a time.
    pub(super) fn take(&self) -> Option<u32> {
        if !self.asymmetric {
            let from = self.started.swap(self.count, Ordering::AcqRel);
            return (from < self.count).then_some(from);
        }
        if self.cut.load(Ordering::Acquire) != UNDECIDED {
            return None;
        }
        self.stop.store(true, Ordering::SeqCst);
        if !heavy_barrier() {
            // No barrier: nothing can be taken safely; the runner runs all.
            self.cut.store(self.count, Ordering::Release);
            return None;
        }
        let from = self.started.load(Ordering::SeqCst).min(self.count);
        self.cut.store(from, Ordering::Release);
        (from < self.count).then_some(from)
    }
}

/// The runner's half: its next item, kept on its own side.
#[derive(Debug, Default)]
pub(super) struct Runner {
    next: u32,
    /// The cut once the runner has seen the stop flag.
    cut: Option<u32>,
}

impl Runner {
    /// Claims the next item of `claim`, if it was not taken back.
    #[inline(always)]
    pub(super) fn next(&mut self, claim: &Claim) -> Option<u32> {
        if !claim.asymmetric {
            let offset = claim.started.fetch_add(1, Ordering::AcqRel);
            return (offset < claim.count).then_some(offset);
        }
        let offset = self.next;
        if offset >= self.cut.unwrap_or(claim.count) {
            return None;
        }
        claim.started.store(offset + 1, Ordering::Relaxed);
        // The taker's membarrier orders this store before the load below.
        compiler_fence(Ordering::SeqCst);
        if claim.stop.load(Ordering::Relaxed) && self.cut.is_none() {
            let cut = wait_for_cut(claim);
            self.cut = Some(cut);
            if offset >= cut {
                return None;
            }
        }
        self.next = offset + 1;
        Some(offset)
    }
}

/// The cut of a take under way (the taker has set the flag; the cut
/// follows its barrier, microseconds later).
#[cold]
fn wait_for_cut(claim: &Claim) -> u32 {
    let mut spins = 0u32;
    loop {
        let cut = claim.cut.load(Ordering::Acquire);
        if cut != UNDECIDED {
            return cut;
        }
        spins += 1;
        if spins < 64 {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}

/// Decides this process's mode. Call it while the process has one thread:
/// registering then costs a system call, where with more threads the
/// kernel waits for an RCU grace period (10 to 15 ms measured here; a
/// process exits only once that wait is over).
pub(super) fn prepare() {
    asymmetric();
}

/// Whether this process claims items in asymmetric mode: decided once,
/// by registering for private expedited membarriers.
fn asymmetric() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    *REGISTERED.get_or_init(register)
}

/// `membarrier(2)`'s private expedited commands.
const MEMBARRIER_CMD_PRIVATE_EXPEDITED: nix::libc::c_long = 1 << 3;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: nix::libc::c_long = 1 << 4;

/// Registers this process for private expedited membarriers.
fn register() -> bool {
    membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED)
}

/// Runs a full memory barrier on every running thread of this process.
fn heavy_barrier() -> bool {
    membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)
}

/// `membarrier(command, 0, 0)`; true when it succeeded.
#[cfg(target_os = "linux")]
fn membarrier(command: nix::libc::c_long) -> bool {
    // SAFETY: membarrier takes a command, flags and a CPU id and touches
    // no memory of ours.
    let r = unsafe { nix::libc::syscall(nix::libc::SYS_membarrier, command, 0, 0) };
    r == 0
}

/// No membarrier here: the counter is used.
#[cfg(not(target_os = "linux"))]
fn membarrier(_command: nix::libc::c_long) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{asymmetric, Claim, Runner};

    /// A runner and a taker race over chunks of every size; each item is
    /// run or taken, never both, never neither.
    fn race(asymmetric: bool) {
        for round in 0..2_000u32 {
            let count = 1 + round % 300;
            let claim = Arc::new(Claim::in_mode(count, asymmetric));
            let runner = {
                let claim = Arc::clone(&claim);
                std::thread::spawn(move || {
                    let mut runner = Runner::default();
                    let mut ran = Vec::new();
                    while let Some(i) = runner.next(&claim) {
                        ran.push(i);
                        // Some work, so that takes land mid-chunk too.
                        std::hint::black_box((0..(i % 7) * 50).sum::<u32>());
                    }
                    ran
                })
            };
            // Let the runner get some way first in some rounds.
            for _ in 0..(round % 13) * 40 {
                std::hint::spin_loop();
            }
            let taken = claim.take();
            assert_eq!(claim.take(), None, "a second take finds nothing");
            let ran = runner.join().unwrap();
            let from = taken.unwrap_or(count);
            let expected: Vec<u32> = (0..from).collect();
            assert_eq!(
                ran, expected,
                "round {round}: {count} items, taken from {taken:?}"
            );
        }
    }

    #[test]
    fn every_item_is_run_or_taken_exactly_once_with_barriers() {
        // This machine's kernel offers membarrier, or the mode is off.
        if asymmetric() {
            race(true);
        }
    }

    #[test]
    fn every_item_is_run_or_taken_exactly_once_with_a_counter() {
        race(false);
    }

    #[test]
    fn a_take_after_the_chunk_ran_finds_nothing() {
        for mode in [asymmetric(), false] {
            let claim = Claim::in_mode(3, mode);
            let mut runner = Runner::default();
            let ran: Vec<u32> = std::iter::from_fn(|| runner.next(&claim)).collect();
            assert_eq!(ran, [0, 1, 2]);
            assert_eq!(claim.take(), None);
        }
    }

    #[test]
    fn a_take_before_the_chunk_starts_takes_it_whole() {
        for mode in [asymmetric(), false] {
            let claim = Claim::in_mode(4, mode);
            assert_eq!(claim.take(), Some(0));
            assert_eq!(Runner::default().next(&claim), None);
        }
    }

    #[test]
    fn a_take_mid_chunk_cuts_after_the_last_item_started() {
        for mode in [asymmetric(), false] {
            let claim = Claim::in_mode(5, mode);
            let mut runner = Runner::default();
            assert_eq!(runner.next(&claim), Some(0));
            assert_eq!(runner.next(&claim), Some(1));
            assert_eq!(claim.take(), Some(2));
            assert_eq!(runner.next(&claim), None);
            assert_eq!(runner.next(&claim), None);
        }
    }
}
