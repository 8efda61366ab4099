//! A small HTTP/1.1 server on `std::net`, for the demo site and the tests:
//! one thread per connection, keep-alive, `GET` and `HEAD`, bodies with a
//! `Content-Length` (from memory, or streamed from a repeated chunk), and a
//! per-response delay slept on the connection's own thread, so slow
//! responses overlap as they would on a real server.
//!
//! It owns sockets and bytes on the wire only; what to answer is the
//! handler's business. It is meant for loopback: no TLS, no chunked
//! request bodies, no pipelining beyond reading requests in turn.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// The longest request line or header line read.
const MAX_LINE: u64 = 8 << 10;
/// The most header lines read.
const MAX_HEADERS: usize = 100;
/// How long an idle keep-alive connection is kept.
const IDLE: Duration = Duration::from_secs(15);
/// How long a connection refused with 400 is read from before closing.
const LINGER: Duration = Duration::from_secs(2);

/// One request.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `HEAD`...
    pub method: String,
    /// The request target: path and query (`/page/1?x=2`).
    pub target: String,
    /// Header names (lowercased) and values.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// The value of header `name` (lowercase), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The path, without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
}

/// A response body.
#[derive(Debug, Clone)]
pub enum Body {
    /// These bytes.
    Bytes(Vec<u8>),
    /// `head`, then `chunk` repeated (the last copy cut short) until the
    /// body is `total` bytes long; streamed, never held whole in memory.
    Repeat {
        /// The start of the body.
        head: Vec<u8>,
        /// What follows, over and over.
        chunk: Vec<u8>,
        /// The body's length.
        total: u64,
    },
}

impl Body {
    fn len(&self) -> u64 {
        match self {
            Body::Bytes(b) => b.len() as u64,
            Body::Repeat { total, .. } => *total,
        }
    }
}

/// One response.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Headers besides `Content-Length` and `Connection`.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Body,
    /// How long to wait before answering.
    pub delay: Duration,
}

impl Response {
    /// A response with `status`, one `Content-Type` and `body`.
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: Body::Bytes(body.into()),
            delay: Duration::ZERO,
        }
    }
}

/// What answers requests.
pub type Handler = Arc<dyn Fn(&Request) -> Response + Send + Sync>;

/// A running server; dropping it stops accepting connections.
pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves `handler` on a listener already bound, on a background
    /// thread.
    pub fn on(listener: TcpListener, handler: Handler) -> io::Result<Server> {
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("mproc-http-accept".into())
            .spawn(move || accept(listener, handler, stopping))?;
        Ok(Server {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until the process ends.
    pub fn wait(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            // Wake the accept call so that it sees the flag.
            let _ = TcpStream::connect(self.addr);
            let _ = thread.join();
        }
    }
}

fn accept(listener: TcpListener, handler: Handler, stop: Arc<AtomicBool>) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let handler = Arc::clone(&handler);
        let spawned = std::thread::Builder::new()
            .name("mproc-http-conn".into())
            .spawn(move || {
                let _ = serve(stream, &handler);
            });
        if let Err(e) = spawned {
            tracing::warn!("cannot start a connection thread: {e}");
        }
    }
}

/// Answers the requests of one connection in turn.
fn serve(stream: TcpStream, handler: &Handler) -> io::Result<()> {
    stream.set_read_timeout(Some(IDLE))?;
    let _ = stream.set_nodelay(true);
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let request = match read_request(&mut reader) {
            Ok(Some(request)) => request,
            Ok(None) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                let bad = Response::new(400, "text/plain", "bad request\n");
                write_response(&mut writer, &bad, false, true)?;
                // Closing with unread input would reset the connection and
                // could destroy the answer: read on until the client closes.
                writer.shutdown(std::net::Shutdown::Write)?;
                writer.set_read_timeout(Some(LINGER))?;
                let _ = io::copy(&mut reader.take(1 << 20), &mut io::sink());
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let close = request
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let response = handler(&request);
        if !response.delay.is_zero() {
            std::thread::sleep(response.delay);
        }
        write_response(&mut writer, &response, request.method == "HEAD", close)?;
        if close {
            return Ok(());
        }
    }
}

/// Reads one request head: `Ok(None)` when the client closed first.
fn read_request(reader: &mut BufReader<TcpStream>) -> io::Result<Option<Request>> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    // Something else than HTTP (a TLS handshake, say) gets an answer at
    // once instead of waiting for a line that never comes.
    match reader.fill_buf()?.first() {
        None => return Ok(None),
        Some(b) if !b.is_ascii_uppercase() && !b.is_ascii_whitespace() => {
            return Err(bad("not HTTP"));
        }
        Some(_) => {}
    }
    let mut line = String::new();
    loop {
        line.clear();
        if read_line(reader, &mut line)? == 0 {
            return Ok(None);
        }
        if !line.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("bad request line"));
    };
    if !version.starts_with("HTTP/1.") || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(bad("not HTTP/1.x"));
    }
    let mut request = Request {
        method: method.to_string(),
        target: target.to_string(),
        headers: Vec::new(),
    };
    if version == "HTTP/1.0" {
        request.headers.push(("connection".into(), "close".into()));
    }
    loop {
        let mut header = String::new();
        if read_line(reader, &mut header)? == 0 {
            return Err(bad("request head cut short"));
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if request.headers.len() >= MAX_HEADERS {
            return Err(bad("too many headers"));
        }
        let (name, value) = header.split_once(':').ok_or_else(|| bad("bad header"))?;
        request
            .headers
            .push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    // A request body is read and dropped.
    let length: u64 = request
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    io::copy(&mut reader.by_ref().take(length), &mut io::sink())?;
    Ok(Some(request))
}

/// One line of at most [`MAX_LINE`] bytes; not UTF-8 is bad data.
fn read_line(reader: &mut BufReader<TcpStream>, line: &mut String) -> io::Result<usize> {
    let mut bytes = Vec::new();
    let n = reader
        .by_ref()
        .take(MAX_LINE)
        .read_until(b'\n', &mut bytes)?;
    if n as u64 == MAX_LINE && !bytes.ends_with(b"\n") {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not text"))?;
    line.push_str(text);
    Ok(n)
}

fn write_response(
    writer: &mut TcpStream,
    response: &Response,
    head_only: bool,
    close: bool,
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n", response.body.len()));
    head.push_str(if close {
        "Connection: close\r\n\r\n"
    } else {
        "Connection: keep-alive\r\n\r\n"
    });
    let mut out = io::BufWriter::with_capacity(64 << 10, writer);
    out.write_all(head.as_bytes())?;
    if !head_only {
        match &response.body {
            Body::Bytes(bytes) => out.write_all(bytes)?,
            Body::Repeat { head, chunk, total } => write_repeated(&mut out, head, chunk, *total)?,
        }
    }
    out.flush()
}

fn write_repeated(out: &mut impl Write, head: &[u8], chunk: &[u8], total: u64) -> io::Result<()> {
    let mut left = total;
    let head = &head[..head.len().min(total as usize)];
    out.write_all(head)?;
    left -= head.len() as u64;
    while left > 0 && !chunk.is_empty() {
        let n = (chunk.len() as u64).min(left) as usize;
        out.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    Ok(())
}

/// The reason phrase for a status code.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        410 => "Gone",
        418 => "I'm a teapot",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}
