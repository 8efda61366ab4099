//! Plain functions as jobs: [`FnJob`] wraps a non-capturing `fn(I) -> O`
//! so that [`Pool::map_fn`] and its kin, and [`Process::start_fn`], run it
//! in workers with no [`Job`] impl and no registry entry (as procspawn
//! does for non-capturing functions).
//!
//! A function travels as its distance from an anchor function in this
//! crate, and so does the monomorphised constructor that rebuilds it in
//! the worker: both are the same in every process started from the same
//! executable file, whatever address the loader chose. A worker rebuilds
//! them only after it has checked that it is the same build as the parent
//! ([`build_id`], which the worker also announces in its
//! [`Hello`](crate::protocol::Hello)); another build is refused, item by
//! item, with a message that names both builds. Workers of another build
//! (another host, another copy of the program) need a registered [`Job`].
//! A function in another loaded object than mproc (a shared library,
//! loaded at an address of its own) is refused the same way: the parent
//! checks where both lie (`dladdr`) and says so in the job.
//!
//! This module must not look at anything but the job's own bytes: the
//! registry hands it the setup frame's value and nothing else.

use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::os::unix::fs::MetadataExt;
use std::sync::OnceLock;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::job::{Job, JobError};
use crate::outcome::ItemResult;
use crate::pool::{AsyncResult, IMap, Pool};
use crate::process::Process;
use crate::protocol;
use crate::registry::{self, ErasedJob};

/// The name every [`FnJob`] is set up under in a worker.
pub(crate) const NAME: &str = "mproc::fn";

/// A plain function `fn(I) -> O` as a [`Job`]: its input and output are
/// serde types; its panics are [`Outcome::Panicked`](crate::Outcome::Panicked).
///
/// Runs only in workers of the same build as the parent (the same
/// executable file); [`Pool::map_fn`] and the other `_fn` methods make one
/// for you.
#[derive(Serialize)]
#[serde(bound = "")]
pub struct FnJob<I, O> {
    /// The parent's [`build_id`], checked first by the worker.
    build: u64,
    /// The rebuilding constructor's distance from [`anchor`].
    make: i64,
    /// The function's distance from [`anchor`].
    func: i64,
    /// The function and its constructor lie in the object (executable or
    /// shared library) that holds [`anchor`]: only then is a distance the
    /// same in every process.
    placed: bool,
    /// Made by [`FnJob::new`], or decoded by a worker's setup after its
    /// checks ([`instantiate`]): only such a job calls its address. One
    /// decoded anywhere else (from bytes anyone could write) refuses to.
    #[serde(skip)]
    trusted: bool,
    #[serde(skip)]
    types: PhantomData<fn(I) -> O>,
}

thread_local! {
    /// Set while [`instantiate`] decodes a job it has checked.
    static CHECKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl<'de, I, O> Deserialize<'de> for FnJob<I, O> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let (build, make, func, placed) = <(u64, i64, i64, bool)>::deserialize(d)?;
        Ok(FnJob {
            build,
            make,
            func,
            placed,
            trusted: CHECKED.with(std::cell::Cell::get),
            types: PhantomData,
        })
    }
}

impl<I, O> FnJob<I, O>
where
    I: Serialize + DeserializeOwned + Send + 'static,
    O: Serialize + DeserializeOwned + Send + 'static,
{
    /// Wraps `f`.
    pub fn new(f: fn(I) -> O) -> FnJob<I, O> {
        let make: registry::Make = registry::make::<FnJob<I, O>>;
        let (make, func) = (make as *const () as usize, f as *const () as usize);
        let home = object_of(anchor_address() as usize);
        FnJob {
            build: build_id(),
            make: distance(make),
            func: distance(func),
            placed: object_of(make) == home && object_of(func) == home,
            trusted: true,
            types: PhantomData,
        }
    }
}

impl<I, O> Clone for FnJob<I, O> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<I, O> Copy for FnJob<I, O> {}

impl<I, O> std::fmt::Debug for FnJob<I, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnJob")
            .field("build", &format_args!("{:016x}", self.build))
            .finish_non_exhaustive()
    }
}

impl<I, O> Job for FnJob<I, O>
where
    I: Serialize + DeserializeOwned + Send + 'static,
    O: Serialize + DeserializeOwned + Send + 'static,
{
    const NAME: &'static str = NAME;
    type Input = I;
    type Output = O;

    fn run(&self, input: I) -> std::result::Result<O, JobError> {
        if !(self.trusted && self.placed) {
            return Err(
                "this plain function's job was not made by FnJob::new nor set up \
                        by a worker of the parent's build: it does not run"
                    .into(),
            );
        }
        // SAFETY: a trusted job was made by `new` in this process, from a
        // `fn(I) -> O`, or decoded by `instantiate` after it checked that
        // this process is the parent's build, where the distance from
        // `anchor` to that function is the same; `placed` says both lie
        // in the object that holds `anchor`.
        let f: fn(I) -> O = unsafe { std::mem::transmute::<usize, fn(I) -> O>(address(self.func)) };
        Ok(f(input))
    }
}

/// The registry's hook for [`NAME`]: checks the build, then rebuilds the
/// job with the constructor the parent named.
pub(crate) fn instantiate(config: &[u8]) -> std::result::Result<Box<dyn ErasedJob>, String> {
    let ((build, make, _, placed), _) = protocol::decode_prefix::<(u64, i64, i64, bool)>(config)
        .map_err(|e| format!("cannot decode a plain function's job: {e}"))?;
    if !placed {
        return Err(
            "a plain function (map_fn) must live in the same executable or library \
                    as mproc, and this one does not (is mproc or the function in a \
                    shared library?): register a Job instead"
                .into(),
        );
    }
    let own = build_id();
    if build != own {
        return Err(format!(
            "this worker is build {own:016x} of {}, the parent build {build:016x}: a plain \
             function (map_fn) runs only in workers started from the parent's own executable; \
             register a Job for workers of another build",
            exe_name()
        ));
    }
    // SAFETY: the same build (checked above) has the same distance from
    // `anchor` to `registry::make::<FnJob<I, O>>`, the only constructor
    // whose distance `FnJob::new` sends.
    let make: registry::Make =
        unsafe { std::mem::transmute::<usize, registry::Make>(address(make)) };
    CHECKED.with(|c| c.set(true));
    let made = make(config);
    CHECKED.with(|c| c.set(false));
    made
}

/// The point functions are measured from.
#[inline(never)]
fn anchor() {}

fn anchor_address() -> i64 {
    anchor as fn() as *const () as usize as i64
}

fn distance(addr: usize) -> i64 {
    (addr as i64).wrapping_sub(anchor_address())
}

fn address(distance: i64) -> usize {
    anchor_address().wrapping_add(distance) as usize
}

/// The load address of the object (the executable or a shared library)
/// that holds `addr`, if the dynamic loader knows it (a fully static
/// program has one object, and the loader may know none).
fn object_of(addr: usize) -> Option<usize> {
    // SAFETY: Dl_info is plain data (pointers and integers), for which all
    // zeroes is a valid value.
    let mut info: nix::libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: dladdr only reads `addr` as a number and writes one Dl_info
    // into `info`, which lives for the call.
    let found = unsafe { nix::libc::dladdr(addr as *const std::ffi::c_void, &mut info) };
    (found != 0).then_some(info.dli_fbase as usize)
}

/// This process's build: the same for every process started from the same
/// executable file on this machine since it booted (the file's device,
/// inode, size and modification time, and the boot's id), else different.
/// Workers announce it in their hello.
pub fn build_id() -> u64 {
    static ID: OnceLock<u64> = OnceLock::new();
    *ID.get_or_init(|| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .unwrap_or_default()
            .hash(&mut h);
        match std::fs::metadata("/proc/self/exe") {
            Ok(m) => (m.dev(), m.ino(), m.size(), m.mtime(), m.mtime_nsec()).hash(&mut h),
            // No file to name: this process is a build of its own.
            Err(_) => std::process::id().hash(&mut h),
        }
        h.finish()
    })
}

fn exe_name() -> String {
    std::fs::read_link("/proc/self/exe")
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "this program".into())
}

/// Plain functions in a pool: the `_fn` forms of `map`, `imap`,
/// `imap_unordered`, `map_async` and `apply`.
impl Pool {
    /// [`map`](Pool::map) with a plain function: `pool.map_fn(square, 0..10)`.
    pub fn map_fn<I, O>(
        &self,
        f: fn(I) -> O,
        inputs: impl IntoIterator<Item = I>,
    ) -> Vec<ItemResult<O>>
    where
        I: Serialize + DeserializeOwned + Send + 'static,
        O: Serialize + DeserializeOwned + Send + 'static,
    {
        self.map(&FnJob::new(f), inputs)
    }

    /// [`imap`](Pool::imap) with a plain function.
    pub fn imap_fn<I, O, It>(
        &self,
        f: fn(I) -> O,
        inputs: It,
    ) -> IMap<'_, FnJob<I, O>, It::IntoIter>
    where
        I: Serialize + DeserializeOwned + Send + 'static,
        O: Serialize + DeserializeOwned + Send + 'static,
        It: IntoIterator<Item = I>,
    {
        self.imap(&FnJob::new(f), inputs)
    }

    /// [`imap_unordered`](Pool::imap_unordered) with a plain function.
    pub fn imap_unordered_fn<I, O, It>(
        &self,
        f: fn(I) -> O,
        inputs: It,
    ) -> IMap<'_, FnJob<I, O>, It::IntoIter>
    where
        I: Serialize + DeserializeOwned + Send + 'static,
        O: Serialize + DeserializeOwned + Send + 'static,
        It: IntoIterator<Item = I>,
    {
        self.imap_unordered(&FnJob::new(f), inputs)
    }

    /// [`map_async`](Pool::map_async) with a plain function.
    pub fn map_async_fn<I, O>(
        &self,
        f: fn(I) -> O,
        inputs: impl IntoIterator<Item = I>,
    ) -> AsyncResult<Vec<ItemResult<O>>>
    where
        I: Serialize + DeserializeOwned + Send + 'static,
        O: Serialize + DeserializeOwned + Send + 'static,
    {
        self.map_async(&FnJob::new(f), inputs)
    }

    /// [`apply`](Pool::apply) with a plain function.
    pub fn apply_fn<I, O>(&self, f: fn(I) -> O, input: I) -> ItemResult<O>
    where
        I: Serialize + DeserializeOwned + Send + 'static,
        O: Serialize + DeserializeOwned + Send + 'static,
    {
        self.apply(&FnJob::new(f), input)
    }
}

impl<O: Serialize + DeserializeOwned + Send + 'static> Process<O> {
    /// Starts this executable as a child that runs the plain function `f`
    /// on `input` (Python's `Process(target=f, args=(input,))`).
    pub fn start_fn<I>(f: fn(I) -> O, input: I) -> Result<Process<O>>
    where
        I: Serialize + DeserializeOwned + Send + 'static,
    {
        Process::start(&FnJob::new(f), input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn double(x: u32) -> u32 {
        2 * x
    }

    #[test]
    fn a_function_of_this_program_is_placed_and_one_of_a_shared_library_is_not() {
        let home = object_of(anchor_address() as usize);
        assert!(home.is_some());
        let job = FnJob::new(double);
        assert!(job.placed && job.build == build_id());
        // getpid lives in the C library, loaded at an address of its own
        // (unless the program is linked statically, when it is home).
        let getpid = nix::libc::getpid as unsafe extern "C" fn() -> nix::libc::pid_t;
        let libc = object_of(getpid as *const () as usize);
        assert!(libc.is_some());
        assert_eq!(libc != home, cfg!(target_env = "gnu"));
    }

    #[test]
    fn a_distance_leads_back_to_its_function() {
        let job = FnJob::new(double);
        // SAFETY: the distance was just taken from `double`, a fn(u32) -> u32.
        let f = unsafe { std::mem::transmute::<usize, fn(u32) -> u32>(address(job.func)) };
        assert_eq!(f(21), 42);
        assert_eq!(job.run(4).unwrap(), 8);
        let config = protocol::encode(&job).unwrap();
        assert!(instantiate(&config).is_ok());
        let mut other: FnJob<u32, u32> = job;
        other.build ^= 1;
        let refused = instantiate(&protocol::encode(&other).unwrap())
            .err()
            .unwrap();
        assert!(refused.contains("runs only in workers started from the parent's own executable"));
        // Decoded anywhere else, it does not run.
        let decoded: FnJob<u32, u32> = protocol::decode(&config).unwrap();
        assert!(decoded.run(4).is_err());
        other = job;
        other.placed = false;
        let refused = instantiate(&protocol::encode(&other).unwrap())
            .err()
            .unwrap();
        assert!(refused.contains("shared library"), "{refused}");
    }
}
