//! Feeds arbitrary bytes to the frame reader as if a worker (or a parent)
//! had written them: it must return frames or errors, never panic, and
//! never allocate the length a frame claims.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mproc::protocol::{FrameReader, Reply, Request};

fuzz_target!(|data: &[u8]| {
    let mut replies = FrameReader::new(data, 1 << 16);
    while let Ok(Some(_)) = replies.read::<Reply>() {}
    let mut requests = FrameReader::new(data, 1 << 16);
    while let Ok(Some(_)) = requests.read::<Request>() {}
    let _ = mproc::protocol::decode::<mproc::protocol::Hello>(data);
    let _ = mproc::protocol::decode_hello(data);
    let _ = mproc::protocol::text_instead_of_frames(data);
});
