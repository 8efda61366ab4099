//! The worker protocol: the typed messages that cross a worker's pipes, and
//! the codec that turns them into bytes.
//!
//! This module is the only one that knows bincode and the frame layout
//! (see `docs/PROTOCOL.md`). Everything else talks in [`Request`], [`Reply`]
//! and [`Hello`] values, and hands opaque job payloads to [`encode`] and
//! [`decode`]. Swapping the codec means changing this module alone.

mod frame;

pub use frame::{FrameReader, FrameWriter};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::outcome::Outcome;

/// The protocol version a worker announces in its [`Hello`].
pub const VERSION: u32 = 1;

/// The first four bytes of every [`Hello`], so a stream that is not an
/// mproc worker (a shell banner, another program) is told apart.
pub const MAGIC: [u8; 4] = *b"MPRC";

/// The default largest frame accepted: 64 MiB.
pub const DEFAULT_MAX_FRAME: usize = 64 << 20;

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
}

impl Hello {
    /// The hello of this process.
    pub fn new() -> Hello {
        Hello {
            magic: MAGIC,
            version: VERSION,
            pid: std::process::id(),
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
        /// Items run at once inside the worker (threads).
        concurrency: u32,
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
    /// Items to run with the job set up under `key`, in this order.
    Run {
        /// The job key.
        key: u32,
        /// The items (one chunk).
        items: Vec<Item>,
    },
}

/// One item of work: a sequence number unique within the pool, and the
/// encoded input.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Item {
    /// Unique per attempt; the [`Done`] frame repeats it.
    pub seq: u64,
    /// The job input, encoded with [`encode`].
    #[serde(with = "serde_bytes")]
    pub input: Vec<u8>,
}

/// A frame on a worker's private result descriptor, to the parent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Reply {
    /// An item finished.
    Done(Done),
    /// A `tracing` event from the worker.
    Log(LogRecord),
}

/// The end of one item inside a worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Done {
    /// The item's [`Item::seq`].
    pub seq: u64,
    /// What the job did.
    pub outcome: WireOutcome,
    /// How long the job ran, in microseconds, by the worker's clock.
    pub micros: u64,
}

/// What a job did, as the worker saw it. Crashes and timeouts are decided
/// by the parent, so they never travel.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum WireOutcome {
    /// The job returned a value, encoded with [`encode`].
    Ok(#[serde(with = "serde_bytes")] Vec<u8>),
    /// The job returned an error.
    Failed(String),
    /// The job panicked.
    Panicked {
        /// The panic message.
        message: String,
        /// `file:line:column`, when known.
        location: Option<String>,
    },
}

impl From<Outcome<Vec<u8>>> for WireOutcome {
    /// What a worker reports of an item it ran (a worker never decides a
    /// crash, a timeout or "not run": those become `Failed` with their text).
    fn from(outcome: Outcome<Vec<u8>>) -> Self {
        match outcome {
            Outcome::Ok(bytes) => WireOutcome::Ok(bytes),
            Outcome::Panicked { message, location } => WireOutcome::Panicked { message, location },
            other => WireOutcome::Failed(other.error().unwrap_or_default()),
        }
    }
}

impl From<WireOutcome> for Outcome<Vec<u8>> {
    fn from(wire: WireOutcome) -> Self {
        match wire {
            WireOutcome::Ok(bytes) => Outcome::Ok(bytes),
            WireOutcome::Failed(message) => Outcome::Failed(message),
            WireOutcome::Panicked { message, location } => Outcome::Panicked { message, location },
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

fn config() -> impl bincode::config::Config {
    bincode::config::standard()
}

/// Encodes a job payload (input, output or job value).
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    bincode::serde::encode_to_vec(value, config())
        .map_err(|e| Error::protocol(format!("cannot encode payload: {e}")))
}

/// Decodes a job payload written by [`encode`]; trailing bytes are an error.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let (value, used) = bincode::serde::decode_from_slice(bytes, config())
        .map_err(|e| Error::protocol(format!("cannot decode payload: {e}")))?;
    if used != bytes.len() {
        return Err(Error::protocol(format!(
            "payload has {} trailing bytes",
            bytes.len() - used
        )));
    }
    Ok(value)
}

/// Appends one frame (length prefix and payload) holding `message` to `out`.
pub fn append_frame<T: Serialize>(out: &mut Vec<u8>, message: &T) -> Result<()> {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    bincode::serde::encode_into_std_write(message, out, config())
        .map_err(|e| Error::protocol(format!("cannot encode frame: {e}")))?;
    let len = u32::try_from(out.len() - start - 4)
        .map_err(|_| Error::protocol("frame longer than 4 GiB"))?;
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
