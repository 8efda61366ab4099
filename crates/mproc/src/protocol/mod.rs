//! The worker protocol: the typed messages that cross a worker's pipes, and
//! the codec that turns them into bytes.
//!
//! This module is the only one that knows bincode and the frame layout
//! (see `docs/PROTOCOL.md`). Everything else talks in [`Request`], [`Reply`]
//! and [`Hello`] values, and hands opaque job payloads to [`encode`] and
//! [`decode`]. Swapping the codec means changing this module alone.

mod bytes;
mod ends;
mod frame;
mod hello;
mod packed;

pub use bytes::Bytes;
pub use ends::Ends;
pub use frame::FrameReader;
pub use hello::{decode_hello, text_instead_of_frames};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::failure::Failure;
use crate::outcome::Outcome;

/// The protocol version a worker announces in its handshake (`Hello`).
pub const VERSION: u32 = 7;

/// The first four bytes of every [`Hello`], so a stream that is not an
/// mproc worker (a shell banner, another program) is told apart.
pub const MAGIC: [u8; 4] = *b"MPRC";

/// The default largest frame accepted: 64 MiB.
pub const DEFAULT_MAX_FRAME: usize = 64 << 20;

/// The most bytes one decoded payload may claim in all, whatever its
/// lengths say (a string, a byte buffer, a list): a frame that claims more
/// is malformed, and nothing near its claim is allocated. Also the largest
/// frame a pool accepts.
pub const DECODE_LIMIT: usize = 256 << 20;

/// Items in one chunk at most: a chunk's position travels packed with the
/// item's offset in 24 bits (see `progress.rs`).
pub const MAX_CHUNK: usize = (1 << 24) - 1;

/// The first frame a worker writes. Its layout never changes between
/// versions, so a version mismatch is always reported as one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hello {
    /// Always [`MAGIC`].
    pub magic: [u8; 4],
    /// The worker's [`VERSION`].
    pub version: u32,
    /// The worker's process id.
    pub pid: u32,
    /// The worker's [`build_id`](crate::build_id) (0 from a worker that
    /// does not say): a plain function runs only where it equals the
    /// parent's. It follows the fields whose layout never changes.
    pub build: u64,
}

impl Hello {
    /// The hello of this process.
    pub fn new() -> Hello {
        Hello {
            magic: MAGIC,
            version: VERSION,
            pid: std::process::id(),
            build: crate::function::build_id(),
        }
    }
}

impl Default for Hello {
    fn default() -> Self {
        Hello::new()
    }
}

/// A frame on a worker's stdin, from the parent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Request {
    /// Sent once, first: how the worker should behave.
    Configure {
        /// The worker's index in its pool (for its own logs).
        worker: u32,
        /// A `tracing` filter directive, as `RUST_LOG` takes.
        log_filter: String,
        /// Items run at once inside the worker (threads). Above 1, each
        /// free thread claims the next item of the oldest chunk that has
        /// one, and each item is reported in its own [`Done`], as it ends.
        concurrency: u32,
        /// Write a [`Done`] after every item (the parent has no progress
        /// page to read, or needs each item's end: timeouts, retries of
        /// errors, halting); else one per chunk.
        report_each: bool,
        /// Measure each item's own start and run time (one clock reading
        /// an item); else only each [`Done`]'s total, and `times` is empty.
        item_times: bool,
    },
    /// Names a job and its serialized configuration under a small key.
    Setup {
        /// The key later [`Request::Run`] frames use.
        key: u32,
        /// The job's registered name.
        job: String,
        /// The job value, encoded with [`encode`].
        #[serde(with = "serde_bytes")]
        config: Vec<u8>,
    },
    /// A chunk of items to run, in order, with the job set up under `key`.
    Run {
        /// The job key.
        key: u32,
        /// The chunk's number, unique within the pool; [`Done`] repeats it.
        chunk: u64,
        /// Items in the chunk.
        count: u32,
        /// Their inputs, each encoded with [`encode`], one after another
        /// (each encoding says where it ends).
        inputs: Bytes,
    },
    /// Give back the items of chunk `chunk` that have not started: the
    /// worker will not run them, and says from which item in
    /// [`Reply::Taken`].
    Take {
        /// The chunk's number.
        chunk: u64,
    },
}

/// A frame on a worker's private result descriptor, to the parent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Reply {
    /// Items of a chunk finished.
    Done(Done),
    /// A `tracing` event from the worker.
    Log(LogRecord),
    /// The answer to [`Request::Take`]: items `from ..` of chunk `chunk`
    /// will not run here; `None` when none was left to give back.
    Taken {
        /// The chunk's number.
        chunk: u64,
        /// The first item given back.
        from: Option<u32>,
    },
}

/// The end of some items of a chunk inside a worker: items `from ..
/// from + count` of chunk `chunk`, in order. A worker of concurrency 1
/// reports a chunk's items in order; one of K > 1 reports each item
/// alone, and the Dones of one chunk in any order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Done {
    /// The chunk's number ([`Request::Run`]).
    pub chunk: u64,
    /// The first item's offset in the chunk.
    pub from: u32,
    /// How many items.
    pub count: u32,
    /// When the first item started, in microseconds after the worker
    /// wrote its [`Hello`], by the worker's clock.
    pub started: u64,
    /// Each item's own run time in microseconds, in order: item `i`
    /// started when item `i - 1` ended (one clock reading per item);
    /// empty when the parent asked for no item times.
    #[serde(with = "packed")]
    pub times: Vec<u64>,
    /// How long all the items ran, in microseconds.
    pub elapsed: u64,
    /// The outputs of the items that ended ok, each encoded with
    /// [`encode`], one after another.
    pub outputs: Bytes,
    /// The end of each ok item's output in `outputs` (one width kept as
    /// the width).
    pub ends: Ends,
    /// The items that did not end ok, by offset in the chunk, ascending.
    pub failures: Vec<(u32, WireFailure)>,
}

impl Done {
    /// True when the frame describes its items consistently: each failure's
    /// offset lies in `from .. from + count`, ascending; failures and ok
    /// outputs together number `count`, as do the times (when sent); and the outputs'
    /// ends ascend within `outputs`. The parent checks this before it believes a Done, so a
    /// worker that lies about its items is a crashed worker, not a panic.
    pub fn is_consistent(&self) -> bool {
        let end = u64::from(self.from) + u64::from(self.count);
        let offsets_ok = self
            .failures
            .iter()
            .map(|(o, _)| u64::from(*o))
            .try_fold(u64::from(self.from), |next, o| {
                (o >= next && o < end).then_some(o + 1)
            })
            .is_some();
        let counted = self.failures.len() as u64 + self.ends.len() as u64 == u64::from(self.count);
        let ends_ok = self.ends.ascend_within(self.outputs.len());
        let timed = self.times.is_empty() || self.times.len() as u64 == u64::from(self.count);
        offsets_ok && counted && ends_ok && timed
    }
}

/// How a job failed on one item, as the worker saw it. Crashes and
/// timeouts are decided by the parent, so they never travel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum WireFailure {
    /// The job returned an error.
    Failed {
        /// Its message, for people (never parsed).
        message: String,
        /// The data the job attached, encoded with [`encode`].
        #[serde(with = "serde_bytes")]
        data: Option<Vec<u8>>,
    },
    /// The job panicked.
    Panicked {
        /// The panic message.
        message: String,
        /// `file:line:column`, when known.
        location: Option<String>,
    },
}

impl WireFailure {
    /// A failure with a message and no data.
    pub fn message(message: impl Into<String>) -> WireFailure {
        WireFailure::Failed {
            message: message.into(),
            data: None,
        }
    }
}

impl From<Failure> for WireFailure {
    fn from(failure: Failure) -> WireFailure {
        let (message, data) = failure.into_parts();
        WireFailure::Failed { message, data }
    }
}

impl<T> From<WireFailure> for Outcome<T> {
    fn from(wire: WireFailure) -> Self {
        match wire {
            WireFailure::Failed { message, data } => {
                Outcome::Failed(Failure::from_parts(message, data))
            }
            WireFailure::Panicked { message, location } => Outcome::Panicked { message, location },
        }
    }
}

/// A `tracing` event carried from a worker to the parent's log sink.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogRecord {
    /// 1 = error, 2 = warn, 3 = info, 4 = debug, 5 = trace.
    pub level: u8,
    /// The event's target (usually its module path).
    pub target: String,
    /// The message, with any other fields appended as `key=value`.
    pub message: String,
}

/// Every frame after the hello, and every payload: numbers at their
/// fixed width, little-endian (a u64 is 8 bytes), read and written with
/// a copy rather than a varint's branches.
fn config() -> impl bincode::config::Config {
    bincode::config::standard()
        .with_fixed_int_encoding()
        .with_limit::<DECODE_LIMIT>()
}

/// The hello alone: varints, as every version has written it, so that
/// any version reads another's magic and version (see `hello.rs`).
fn handshake_config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<DECODE_LIMIT>()
}

/// Appends the frame of a worker's [`Hello`] (in the handshake's encoding,
/// `handshake_config`).
pub fn append_hello_frame(out: &mut Vec<u8>, hello: &Hello) -> Result<()> {
    append_frame_in(out, hello, handshake_config())
}

/// Encodes `value` as the handshake does (for tests of the hello).
#[cfg(test)]
pub(crate) fn encode_handshake<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    bincode::serde::encode_to_vec(value, handshake_config())
        .map_err(|e| Error::protocol(format!("cannot encode payload: {e}")))
}

/// Decodes the start of a hello as [`decode_prefix`] does a payload.
pub(crate) fn decode_handshake_prefix<T: DeserializeOwned>(bytes: &[u8]) -> Result<(T, usize)> {
    bincode::serde::decode_from_slice(bytes, handshake_config())
        .map_err(|e| Error::protocol(format!("cannot decode payload: {e}")))
}

/// Encodes a job payload (input, output or job value).
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    encode_into(value, &mut out)?;
    Ok(out)
}

/// Appends the encoding of `value` to `out`; on an error `out` is left as
/// it was.
#[inline]
pub fn encode_into<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) -> Result<()> {
    let len = out.len();
    bincode::serde::encode_into_writer(value, VecWriter(out), config()).map_err(|e| {
        out.truncate(len);
        Error::protocol(format!("cannot encode payload: {e}"))
    })?;
    Ok(())
}

/// Sets `out` to the encoding of `value`, in place when it is short (one
/// item's input, at `--chunksize 1`); on an error `out` is left as it was.
pub fn encode_bytes<T: Serialize + ?Sized>(value: &T, out: &mut Bytes) -> Result<()> {
    let mut data = [0; bytes::INLINE];
    match bincode::serde::encode_into_slice(value, &mut data, config()) {
        Ok(len) => {
            *out = Bytes::Inline {
                len: len as u8,
                data,
            };
            Ok(())
        }
        Err(bincode::error::EncodeError::UnexpectedEnd) => {
            let mut v = Vec::new();
            encode_into(value, &mut v)?;
            *out = Bytes::Heap(v);
            Ok(())
        }
        Err(e) => Err(Error::protocol(format!("cannot encode payload: {e}"))),
    }
}

/// Appends what bincode writes to a vector: as `std::io::Write` does,
/// but inlined, so a number's few bytes are stored in place.
struct VecWriter<'a>(&'a mut Vec<u8>);

impl bincode::enc::write::Writer for VecWriter<'_> {
    #[inline(always)]
    fn write(&mut self, bytes: &[u8]) -> std::result::Result<(), bincode::error::EncodeError> {
        self.0.extend_from_slice(bytes);
        Ok(())
    }
}

/// A [`Request::Run`] frame read in place: its inputs are borrowed from
/// the frame, so a worker copies them into a buffer it keeps, rather than
/// into a new vector per chunk.
#[derive(Debug, Deserialize)]
pub(crate) struct RunView<'a> {
    pub key: u32,
    pub chunk: u64,
    pub count: u32,
    #[serde(borrow)]
    pub inputs: &'a [u8],
}

/// [`Request::Run`]'s place among the variants, as bincode writes it.
const RUN_VARIANT: u32 = 2;

/// The request in `frame` as a [`RunView`] when it is a [`Request::Run`]
/// (`None` for any other request: decode it whole).
pub(crate) fn decode_run(frame: &[u8]) -> Option<Result<RunView<'_>>> {
    let (&variant, rest) = frame.split_first_chunk::<4>()?;
    if u32::from_le_bytes(variant) != RUN_VARIANT {
        return None;
    }
    Some(
        bincode::serde::borrow_decode_from_slice::<RunView<'_>, _>(rest, config())
            .map_err(|e| Error::protocol(format!("malformed frame: {e}")))
            .and_then(|(view, used)| match rest.len() - used {
                0 => Ok(view),
                n => Err(Error::protocol(format!(
                    "malformed frame: payload has {n} trailing bytes"
                ))),
            }),
    )
}

/// Decodes a job payload written by [`encode`]; trailing bytes are an error.
#[inline]
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let (value, used) = decode_prefix::<T>(bytes)?;
    if used != bytes.len() {
        return Err(Error::protocol(format!(
            "payload has {} trailing bytes",
            bytes.len() - used
        )));
    }
    Ok(value)
}

/// Decodes the payload at the start of `bytes` and says how many bytes it
/// took (payloads laid one after another, as a chunk's inputs are).
#[inline]
pub fn decode_prefix<T: DeserializeOwned>(bytes: &[u8]) -> Result<(T, usize)> {
    bincode::serde::decode_from_slice(bytes, config())
        .map_err(|e| Error::protocol(format!("cannot decode payload: {e}")))
}

/// Appends one frame (length prefix and payload) holding `message` to `out`.
pub fn append_frame<T: Serialize>(out: &mut Vec<u8>, message: &T) -> Result<()> {
    append_frame_in(out, message, config())
}

/// [`append_frame`] in the encoding `config`; on an error `out` is left
/// as it was.
fn append_frame_in<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    message: &T,
    config: impl bincode::config::Config,
) -> Result<()> {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    bincode::serde::encode_into_writer(message, VecWriter(out), config).map_err(|e| {
        out.truncate(start);
        Error::protocol(format!("cannot encode frame: {e}"))
    })?;
    let len = u32::try_from(out.len() - start - 4).map_err(|_| {
        out.truncate(start);
        Error::protocol("frame longer than 4 GiB")
    })?;
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    Ok(())
}

/// Checks a worker's hello against this build. Messages start with a
/// verb, to follow the worker's name (`worker on host2 speaks ...`).
pub fn check_hello(hello: &Hello) -> Result<()> {
    if hello.magic != MAGIC {
        return Err(Error::new(
            crate::ErrorKind::Handshake,
            "is not an mproc worker (bad magic in its first frame)",
        ));
    }
    if hello.version != VERSION {
        return Err(Error::new(
            crate::ErrorKind::Handshake,
            format!(
                "speaks protocol version {}, this mproc speaks {}: install the same mproc version on both sides",
                hello.version, VERSION
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
