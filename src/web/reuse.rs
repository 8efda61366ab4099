//! Retrying a request that met a dead pooled connection, as curl does.
//!
//! A server may close a keep-alive connection at any moment (its idle
//! timeout fires); a request sent on it just then fails before any byte
//! of the answer arrives, although the server is fine. curl retries such a
//! request once on a new connection, and so does [`Client`]: a GET whose
//! connection came from the pool (no new connection was opened for it) and
//! that failed with the peer gone (reset, aborted, broken pipe, or closed
//! before the response head was complete) is sent once more on a fresh
//! connection. A failure on a new connection is never retried: that server
//! really did hang up.
//!
//! Whether a request opened a connection is seen by [`CountOpened`], a
//! link at the end of each agent's connector chain: ureq runs the chain
//! only for a new connection, on the thread that makes the request, so a
//! per-thread count tells one request's story.
//!
//! [`Client`]: super::Client

use std::cell::Cell;
use std::io::ErrorKind;

use ureq::unversioned::transport::{ConnectionDetails, Connector, Transport};

thread_local! {
    /// Connections this thread has opened.
    static OPENED: Cell<u64> = const { Cell::new(0) };
}

/// Connections opened so far by this thread's requests.
pub(crate) fn opened() -> u64 {
    OPENED.with(Cell::get)
}

/// Counts the connections a chain makes; changes nothing else.
#[derive(Debug)]
pub(crate) struct CountOpened;

impl<In: Transport> Connector<In> for CountOpened {
    type Out = In;

    fn connect(
        &self,
        _: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<In>, ureq::Error> {
        if chained.is_some() {
            OPENED.with(|n| n.set(n.get() + 1));
        }
        Ok(chained)
    }
}

/// True for an error that says the peer had hung up the connection by the
/// time the request was sent or its answer awaited.
pub(crate) fn peer_gone(e: &ureq::Error) -> bool {
    match e {
        ureq::Error::Io(io) => matches!(
            io.kind(),
            ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::BrokenPipe
                | ErrorKind::UnexpectedEof
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_peer_that_hung_up_is_worth_a_second_connection() {
        let io = |kind| ureq::Error::Io(std::io::Error::from(kind));
        assert!(peer_gone(&io(ErrorKind::ConnectionReset)));
        assert!(peer_gone(&io(ErrorKind::UnexpectedEof)));
        assert!(!peer_gone(&io(ErrorKind::ConnectionRefused)));
        assert!(!peer_gone(&io(ErrorKind::TimedOut)));
        assert!(!peer_gone(&ureq::Error::Timeout(ureq::Timeout::Global)));
    }
}
