//! stdio framing that survives bad input, on two threads of its own.
//!
//! The reader splits stdin into `Content-Length` framed messages. A header
//! block without a usable `Content-Length` (missing, not a number), stray
//! bytes, or a body that is not JSON are reported as [`Input::Malformed`]
//! (answered `-32700` by the server) and reading goes on from the next
//! `Content-Length:` wherever it starts — clients send no newline after a
//! body, so a resynchronisation that only looked at line starts would miss
//! every later message. The writer frames and flushes outgoing messages in
//! the order they are sent, so replies never interleave.

use std::io::{self, BufWriter, IoSlice, Read, Write};
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Sender, unbounded};
use serde_json::Value;

/// A message over this size has its memory given back after it.
const LARGE_MESSAGE: usize = 1 << 20;

/// The read buffer's capacity kept between messages.
const RETAINED_BUFFER: usize = 256 * 1024;

/// Frames larger than this are skipped rather than buffered.
pub const MAX_FRAME: usize = 256 * 1024 * 1024;
const HEADER: &[u8] = b"content-length:";
/// A header block longer than this is not one.
const MAX_HEADERS: usize = 8 * 1024;

/// What the reader produced.
#[derive(Debug)]
pub enum Input {
    Message(Value),
    /// Bytes that are not a message, and why.
    Malformed(String),
    /// A body larger than [`MAX_FRAME`], skipped.
    TooLarge(usize),
    /// stdin ended (or failed).
    Closed,
}

/// Splits a byte stream into frames.
pub struct FrameReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// Bytes of `buf` already consumed.
    start: usize,
    eof: bool,
}

/// One step of the reader.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    Body(Vec<u8>),
    Bad(String),
    TooLarge(usize),
}

fn find_ci(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl<R: Read> FrameReader<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            buf: Vec::new(),
            start: 0,
            eof: false,
        }
    }

    fn pending(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// Reads more input; false at the end of the stream.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let mut chunk = [0u8; 64 * 1024];
        let n = loop {
            match self.inner.read(&mut chunk) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if n == 0 {
            self.eof = true;
            return Ok(false);
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(true)
    }

    /// Empties the buffer once everything in it is consumed, and lets a
    /// buffer that grew (stray input, headers over many reads) go.
    fn release_if_consumed(&mut self) {
        if self.start >= self.buf.len() {
            self.start = 0;
            if self.buf.capacity() > RETAINED_BUFFER {
                self.buf = Vec::new();
            } else {
                self.buf.clear();
            }
        }
    }

    /// Drops bytes up to the next `Content-Length:` (keeping a tail that
    /// could be the start of one).
    fn resynchronise(&mut self) -> io::Result<()> {
        loop {
            // Not at the current position: that header block was the bad one.
            let from = (self.start + 1).min(self.buf.len());
            if let Some(at) = find_ci(&self.buf[from..], HEADER) {
                self.start = from + at;
                return Ok(());
            }
            let keep = HEADER.len() - 1;
            self.start = self.buf.len().saturating_sub(keep).max(self.start);
            if !self.fill()? {
                self.start = self.buf.len();
                return Ok(());
            }
        }
    }

    /// The next frame, or `None` at the end of the stream.
    pub fn next_frame(&mut self) -> io::Result<Option<Frame>> {
        loop {
            // Blank lines between messages are tolerated.
            let skip = self
                .pending()
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n' | b' ' | b'\t'))
                .count();
            self.start += skip;
            if self.pending().is_empty() {
                if !self.fill()? {
                    return Ok(None);
                }
                continue;
            }
            // Stray bytes before a header: report them, go on at the header.
            if let Some(at) = find_ci(self.pending(), HEADER)
                && at > 0
                && !self.pending()[..at].contains(&b'\n')
            {
                let stray = String::from_utf8_lossy(&self.pending()[..at.min(80)]).into_owned();
                self.start += at;
                return Ok(Some(Frame::Bad(format!(
                    "stray bytes before a message: {stray:?}"
                ))));
            }
            let Some(end) = self.header_end() else {
                if self.pending().len() > MAX_HEADERS {
                    let why = "a header block without an end".to_owned();
                    self.resynchronise()?;
                    return Ok(Some(Frame::Bad(why)));
                }
                if !self.fill()? {
                    let rest =
                        String::from_utf8_lossy(&self.pending()[..self.pending().len().min(80)])
                            .into_owned();
                    self.start = self.buf.len();
                    return Ok(Some(Frame::Bad(format!(
                        "the input ended inside a header block: {rest:?}"
                    ))));
                }
                continue;
            };
            let (header_len, body_start) = end;
            let headers = String::from_utf8_lossy(&self.pending()[..header_len]).into_owned();
            let length = match parse_headers(&headers) {
                Ok(length) => length,
                Err(why) => {
                    self.resynchronise()?;
                    return Ok(Some(Frame::Bad(why)));
                }
            };
            self.start += body_start;
            if length > MAX_FRAME {
                let mut left = length;
                while left > 0 {
                    let available = self.pending().len().min(left);
                    self.start += available;
                    left -= available;
                    if left > 0 && !self.fill()? {
                        break;
                    }
                }
                return Ok(Some(Frame::TooLarge(length)));
            }
            if self.pending().len() >= length {
                let body = self.pending()[..length].to_vec();
                self.start += length;
                self.release_if_consumed();
                return Ok(Some(Frame::Body(body)));
            }
            // A body longer than what is buffered is read straight into its
            // own vector: the buffer never grows to the size of the largest
            // message (a 10 MB didOpen kept 10 MB resident after its
            // document closed).
            let mut body = vec![0; length];
            let have = self.pending().len();
            body[..have].copy_from_slice(self.pending());
            self.start = self.buf.len();
            self.release_if_consumed();
            let mut got = have;
            while got < length {
                match self.inner.read(&mut body[got..]) {
                    Ok(0) => {
                        self.eof = true;
                        return Ok(Some(Frame::Bad(format!(
                            "the input ended {got} bytes into a body of {length}"
                        ))));
                    }
                    Ok(n) => got += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            }
            return Ok(Some(Frame::Body(body)));
        }
    }

    /// Where the header block at the current position ends: its length and
    /// where the body starts.
    fn header_end(&self) -> Option<(usize, usize)> {
        let pending = self.pending();
        let crlf = find(pending, b"\r\n\r\n").map(|i| (i, i + 4));
        let lf = find(pending, b"\n\n").map(|i| (i, i + 2));
        match (crlf, lf) {
            (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
            (a, b) => a.or(b),
        }
    }
}

/// The `Content-Length` of a header block.
fn parse_headers(headers: &str) -> Result<usize, String> {
    let mut length = None;
    for line in headers.split('\n').map(|l| l.trim_end_matches('\r')) {
        if line.is_empty() {
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("not a header line: {:?}", truncate(line)));
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| format!("bad Content-Length {:?}", truncate(value.trim())))?,
            );
        }
    }
    length.ok_or_else(|| "a header block without Content-Length".to_owned())
}

fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}

/// Starts the reader thread: frames from `input`, parsed as JSON, each
/// handed to `deliver` on the reader thread itself (straight into the
/// protocol loop's queue: a thread in between to forward them would be one
/// more wake-up on every keystroke). The thread stops after
/// [`Input::Closed`] or when `deliver` returns false (nobody listens).
pub fn spawn_reader(
    input: impl Read + Send + 'static,
    mut deliver: impl FnMut(Input) -> bool + Send + 'static,
) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            let mut reader = FrameReader::new(input);
            // A large message is read and parsed in this thread's arena: its
            // body is freed here, its parsed value later by the protocol
            // loop. The arena's free top is given back when the next message
            // is not large too (glibc trims a thread's arena only from that
            // thread); a client that sends a large document whole on every
            // keystroke keeps it for the next one.
            let mut release_pending = false;
            loop {
                let frame = reader.next_frame();
                let large = matches!(&frame, Ok(Some(Frame::Body(b))) if b.len() > LARGE_MESSAGE);
                if release_pending && !large {
                    svl_trim::release_free_memory(svl_trim::Keep::Room);
                }
                release_pending = large;
                let input = match frame {
                    Ok(Some(Frame::Body(body))) => match serde_json::from_slice::<Value>(&body) {
                        Ok(value) => Input::Message(value),
                        Err(e) => Input::Malformed(format!("the body is not JSON: {e}")),
                    },
                    Ok(Some(Frame::Bad(why))) => Input::Malformed(why),
                    Ok(Some(Frame::TooLarge(n))) => Input::TooLarge(n),
                    Ok(None) => Input::Closed,
                    Err(e) => {
                        tracing::error!("reading stdin failed: {e}");
                        Input::Closed
                    }
                };
                let closed = matches!(input, Input::Closed);
                if !deliver(input) || closed {
                    break;
                }
            }
        })
        .expect("spawning a thread")
}

/// The outgoing side: messages sent here are written, framed, in order.
#[derive(Clone)]
pub struct Output {
    tx: Sender<Option<Outbound>>,
}

/// A message to write: a value, or a message already serialised.
enum Outbound {
    Value(Value),
    /// One message serialised by the caller (a publish: its diagnostics'
    /// JSON is written as it is, not copied into a message).
    Joined(Joined),
}

/// A JSON message serialised in pieces: `head`, then `items` separated by
/// commas, then `tail` (the items being one JSON array's elements, shared
/// with whoever made them).
#[derive(Debug, Clone)]
pub struct Joined {
    pub head: String,
    pub items: Arc<[Arc<str>]>,
    pub tail: String,
}

impl Joined {
    fn len(&self) -> usize {
        let items: usize = self.items.iter().map(|i| i.len()).sum();
        self.head.len() + items + self.items.len().saturating_sub(1) + self.tail.len()
    }

    fn write_to(&self, out: &mut impl Write) -> std::io::Result<()> {
        // Gathered writes, straight from the pieces: a large publish (9 MB
        // at 10 MB) is not copied into a buffer first.
        let mut slices: Vec<IoSlice<'_>> = Vec::with_capacity(2 * self.items.len() + 1);
        slices.push(IoSlice::new(self.head.as_bytes()));
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                slices.push(IoSlice::new(b","));
            }
            slices.push(IoSlice::new(item.as_bytes()));
        }
        slices.push(IoSlice::new(self.tail.as_bytes()));
        let mut rest = &mut slices[..];
        while !rest.is_empty() {
            match out.write_vectored(rest) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => IoSlice::advance_slices(&mut rest, n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The whole message as one string.
    #[cfg(test)]
    pub fn concat(&self) -> String {
        let mut out = Vec::with_capacity(self.len());
        let _ = self.write_to(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

impl Output {
    pub fn send(&self, message: Value) {
        // The writer only goes away when the server stops.
        let _ = self.tx.send(Some(Outbound::Value(message)));
    }

    /// Sends a message serialised by the caller.
    pub fn send_joined(&self, message: Joined) {
        let _ = self.tx.send(Some(Outbound::Joined(message)));
    }
}

/// The process's standard output, written directly. `std::io::Stdout` is
/// line-buffered: it searched every byte written for a line break (`memrchr`
/// over the 9 MB of each publish at 10 MB: 3 % of the server's time while
/// typing), although a message never holds one. Nothing else writes there.
pub fn stdout() -> Box<dyn Write + Send> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        if let Ok(fd) = std::io::stdout().as_fd().try_clone_to_owned() {
            return Box::new(std::fs::File::from(fd));
        }
    }
    Box::new(std::io::stdout())
}

/// Starts the writer thread; `finish` it to flush what was sent.
pub fn spawn_writer(output: impl Write + Send + 'static) -> (Output, Writer) {
    let (tx, rx) = unbounded::<Option<Outbound>>();
    let handle = std::thread::Builder::new()
        .name("stdout".into())
        .spawn(move || {
            // A publish is written in thousands of small pieces: a buffer
            // large enough that they go out in few writes.
            let mut out = BufWriter::with_capacity(64 * 1024, output);
            while let Ok(Some(message)) = rx.recv() {
                let written = match message {
                    Outbound::Value(value) => {
                        let text = value.to_string();
                        write!(out, "Content-Length: {}\r\n\r\n{text}", text.len())
                    }
                    Outbound::Joined(joined) => {
                        write!(out, "Content-Length: {}\r\n\r\n", joined.len())
                            .and_then(|()| joined.write_to(&mut out))
                    }
                }
                // Flush when nothing else is queued: one flush per burst.
                .and_then(|()| if rx.is_empty() { out.flush() } else { Ok(()) });
                if let Err(e) = written {
                    tracing::error!("writing stdout failed: {e}");
                    break;
                }
            }
            let _ = out.flush();
        })
        .expect("spawning a thread");
    (
        Output { tx: tx.clone() },
        Writer {
            tx,
            handle: Some(handle),
        },
    )
}

/// The writer thread.
pub struct Writer {
    tx: Sender<Option<Outbound>>,
    handle: Option<JoinHandle<()>>,
}

impl Writer {
    /// Writes what was sent so far, then stops (waiting at most `limit`).
    pub fn finish(mut self, limit: std::time::Duration) {
        let _ = self.tx.send(None);
        if let Some(handle) = self.handle.take() {
            let deadline = std::time::Instant::now() + limit;
            while !handle.is_finished() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pipe that takes a few bytes per write, as a full one does.
    struct Trickle(Vec<u8>);

    impl Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let n = buf.len().min(7);
            self.0.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            // Across slices, and ending inside one.
            let mut budget = 7;
            for buf in bufs {
                let n = buf.len().min(budget);
                self.0.extend_from_slice(&buf[..n]);
                budget -= n;
                if budget == 0 {
                    break;
                }
            }
            Ok(7 - budget)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A publish written in pieces, however few bytes each write takes, is
    /// the whole message once.
    #[test]
    fn a_joined_message_survives_short_writes() {
        let joined = Joined {
            head: "{\"d\":[".to_owned(),
            items: vec![
                Arc::from("{\"a\":1}"),
                Arc::from(""),
                Arc::from("{\"b\":22}"),
            ]
            .into(),
            tail: "]}".to_owned(),
        };
        let mut out = Trickle(Vec::new());
        joined.write_to(&mut out).expect("written");
        assert_eq!(
            String::from_utf8(out.0).expect("utf-8"),
            "{\"d\":[{\"a\":1},,{\"b\":22}]}"
        );
        assert_eq!(joined.len(), joined.concat().len());
    }

    fn frames(input: &[u8]) -> Vec<Frame> {
        let mut reader = FrameReader::new(input);
        let mut out = Vec::new();
        while let Some(frame) = reader.next_frame().unwrap() {
            out.push(frame);
        }
        out
    }

    fn body(s: &str) -> Frame {
        Frame::Body(s.as_bytes().to_vec())
    }

    /// A large message is read into its own vector: the reader's buffer
    /// does not keep its size once it is handed over.
    #[test]
    fn a_large_body_leaves_no_large_buffer_behind() {
        let large = format!("[\"{}\"]", "x".repeat(5 << 20));
        let input = format!(
            "Content-Length: 2\r\n\r\n{{}}Content-Length: {}\r\n\r\n{large}Content-Length: 3\r\n\r\n[1]",
            large.len()
        );
        let mut reader = FrameReader::new(input.as_bytes());
        assert_eq!(reader.next_frame().unwrap(), Some(body("{}")));
        assert_eq!(reader.next_frame().unwrap(), Some(body(&large)));
        assert!(
            reader.buf.capacity() <= RETAINED_BUFFER,
            "{} bytes kept",
            reader.buf.capacity()
        );
        assert_eq!(reader.next_frame().unwrap(), Some(body("[1]")));
        assert_eq!(reader.next_frame().unwrap(), None);
        // Cut short inside the large body: reported, then the end.
        let cut = &input.as_bytes()[..input.len() / 2];
        let got = frames(cut);
        assert_eq!(got[0], body("{}"));
        assert!(
            matches!(&got[1], Frame::Bad(why) if why.contains("ended") && why.contains(&format!("body of {}", large.len()))),
            "{got:?}"
        );
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn well_formed_frames_with_and_without_content_type() {
        let input = b"Content-Length: 2\r\n\r\n{}Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: 3\r\n\r\n[1]\r\n\r\ncontent-length:1\n\n7";
        assert_eq!(frames(input), [body("{}"), body("[1]"), body("7")]);
    }

    #[test]
    fn bad_headers_are_reported_and_reading_resumes_at_the_next_header() {
        for (input, bad) in [
            (
                &b"Content-Type: x\r\n\r\n{\"a\":1}Content-Length: 2\r\n\r\n{}"[..],
                "without Content-Length",
            ),
            (
                &b"Content-Length: abc\r\n\r\n{}Content-Length: 2\r\n\r\n{}"[..],
                "bad Content-Length",
            ),
            (
                &b"garbage without newline Content-Length: 2\r\n\r\n{}"[..],
                "stray bytes",
            ),
        ] {
            let got = frames(input);
            assert!(
                matches!(&got[0], Frame::Bad(why) if why.contains(bad)),
                "{got:?}"
            );
            assert_eq!(got.last(), Some(&body("{}")), "{got:?}");
        }
    }

    #[test]
    fn a_short_length_costs_one_message_only() {
        // The length is 5 bytes short: the body is cut, the rest is junk
        // before the next header.
        let input = b"Content-Length: 8\r\n\r\n{\"id\": 1, \"x\": 2}Content-Length: 2\r\n\r\n{}";
        let got = frames(input);
        assert_eq!(got[0], body("{\"id\": 1"));
        assert!(matches!(got[1], Frame::Bad(_)), "{got:?}");
        assert_eq!(got[2], body("{}"));
    }

    #[test]
    fn the_end_inside_a_message_is_reported() {
        let got = frames(b"Content-Length: 10\r\n\r\n{}");
        assert!(
            matches!(&got[0], Frame::Bad(why) if why.contains("ended")),
            "{got:?}"
        );
    }
}
