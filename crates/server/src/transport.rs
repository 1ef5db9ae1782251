//! stdio framing that survives bad input.
//!
//! tower-lsp 0.20 reads stdin through tokio-util's `FramedRead`, which ends
//! the stream after the first decoding error (tokio-rs/tokio#3976): one
//! malformed message from a client would stop the server. So the real stdin
//! is read here first, frame by frame. Frames whose body is a JSON-RPC
//! message go on to tower-lsp through an in-memory pipe; the others are
//! answered here (`-32700` Parse error, `-32600` Invalid Request) and dropped.
//! Because two writers now answer the client, tower-lsp's output also passes
//! through here and is copied to stdout whole frame by whole frame, with our
//! error replies between frames, never inside one.

use std::io;

use serde_json::{Value, json};
use tokio::io::{
    AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, DuplexStream,
};
use tokio::sync::mpsc;

/// Frames larger than this are refused (and skipped) rather than buffered.
const MAX_FRAME: usize = 256 * 1024 * 1024;
const PIPE: usize = 1 << 20;

/// What one read from a framed stream produced.
enum Frame {
    Body(Vec<u8>),
    /// Headers without a usable `Content-Length`: the bytes up to the next
    /// header block were skipped.
    BadHeader(String),
    /// A body of this size was skipped.
    TooLarge(usize),
}

/// Reads `Content-Length` framed messages.
struct FrameReader<R> {
    inner: BufReader<R>,
    /// A header line read while resynchronising, to be used next.
    carried: Option<String>,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    fn new(inner: R) -> Self {
        Self {
            inner: BufReader::new(inner),
            carried: None,
        }
    }

    async fn read_line(&mut self) -> io::Result<Option<String>> {
        if let Some(line) = self.carried.take() {
            return Ok(Some(line));
        }
        let mut raw = Vec::new();
        if self.inner.read_until(b'\n', &mut raw).await? == 0 {
            return Ok(None);
        }
        Ok(Some(String::from_utf8_lossy(&raw).into_owned()))
    }

    /// The next frame, or `None` at the end of the stream.
    async fn next(&mut self) -> io::Result<Option<Frame>> {
        let mut length: Option<Result<usize, String>> = None;
        let mut saw_header = false;
        loop {
            let Some(line) = self.read_line().await? else {
                return Ok(None);
            };
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if saw_header {
                    break;
                }
                continue; // stray blank line between frames
            }
            saw_header = true;
            match line.split_once(':') {
                Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                    length = Some(
                        value
                            .trim()
                            .parse::<usize>()
                            .map_err(|_| format!("bad Content-Length {:?}", value.trim())),
                    );
                }
                Some(_) => {} // Content-Type and friends
                None => {
                    let why = format!("not a header line: {line:?}");
                    self.resynchronise().await?;
                    return Ok(Some(Frame::BadHeader(why)));
                }
            }
        }
        match length {
            Some(Ok(n)) if n > MAX_FRAME => {
                let skipped = tokio::io::copy(
                    &mut (&mut self.inner).take(n as u64),
                    &mut tokio::io::sink(),
                )
                .await?;
                Ok(Some(Frame::TooLarge(skipped as usize)))
            }
            Some(Ok(n)) => {
                let mut body = vec![0; n];
                self.inner.read_exact(&mut body).await?;
                Ok(Some(Frame::Body(body)))
            }
            Some(Err(why)) => {
                self.resynchronise().await?;
                Ok(Some(Frame::BadHeader(why)))
            }
            None => {
                self.resynchronise().await?;
                Ok(Some(Frame::BadHeader(
                    "no Content-Length header".to_owned(),
                )))
            }
        }
    }

    /// Skips lines until one that starts a header block.
    async fn resynchronise(&mut self) -> io::Result<()> {
        while let Some(line) = self.read_line().await? {
            if line.to_ascii_lowercase().starts_with("content-length:") {
                self.carried = Some(line);
                break;
            }
        }
        Ok(())
    }
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

fn error_reply(id: Value, code: i64, message: String) -> Vec<u8> {
    let reply = json!({"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": id});
    frame(reply.to_string().as_bytes())
}

fn is_exit(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body)
        .is_ok_and(|v| v["method"] == "exit" && v.get("id").is_none())
}

/// Decides what to do with one body: forward it, or answer it with an error.
fn check(body: &[u8]) -> Result<(), Vec<u8>> {
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(e) => {
            return Err(error_reply(
                Value::Null,
                -32700,
                format!("Parse error: {e}"),
            ));
        }
    };
    let is_request = serde_json::from_value::<tower_lsp::jsonrpc::Request>(value.clone()).is_ok();
    let is_response = serde_json::from_value::<tower_lsp::jsonrpc::Response>(value.clone()).is_ok();
    if is_request || is_response {
        return Ok(());
    }
    let id = match value.get("id") {
        Some(id @ (Value::Number(_) | Value::String(_))) => id.clone(),
        _ => Value::Null,
    };
    Err(error_reply(
        id,
        -32600,
        "Invalid Request: not a JSON-RPC 2.0 request, notification or response".to_owned(),
    ))
}

/// Copies valid frames from `input` to the server, answering the rest.
async fn pump_input<R: AsyncRead + Unpin>(
    input: R,
    mut server: DuplexStream,
    replies: mpsc::UnboundedSender<Vec<u8>>,
) {
    let mut reader = FrameReader::new(input);
    loop {
        match reader.next().await {
            Ok(Some(Frame::Body(body))) => match check(&body) {
                Ok(()) => {
                    if server.write_all(&frame(&body)).await.is_err() {
                        break; // the server stopped
                    }
                    // tower-lsp notices `exit` only when the next message
                    // arrives (tower-lsp#239); end its input so it stops now.
                    if is_exit(&body) {
                        break;
                    }
                }
                Err(reply) => {
                    tracing::warn!(
                        "dropping a malformed message: {}",
                        String::from_utf8_lossy(&body[..body.len().min(200)])
                    );
                    let _ = replies.send(reply);
                }
            },
            Ok(Some(Frame::BadHeader(why))) => {
                tracing::warn!("skipping bytes with unusable headers: {why}");
                let _ = replies.send(error_reply(
                    Value::Null,
                    -32700,
                    format!("Parse error: {why}"),
                ));
            }
            Ok(Some(Frame::TooLarge(n))) => {
                tracing::warn!(bytes = n, "skipping a message larger than the limit");
                let _ = replies.send(error_reply(
                    Value::Null,
                    -32600,
                    format!("Invalid Request: message of {n} bytes exceeds the limit"),
                ));
            }
            Ok(None) => break,
            Err(e) => {
                tracing::error!("reading stdin failed: {e}");
                break;
            }
        }
    }
    // Closing the pipe tells tower-lsp the client is gone.
    let _ = server.shutdown().await;
}

/// Copies the server's frames and our replies to `output`, whole frames only.
async fn pump_output<W: AsyncWrite + Unpin>(
    server: DuplexStream,
    mut replies: mpsc::UnboundedReceiver<Vec<u8>>,
    mut output: W,
) {
    let mut reader = FrameReader::new(server);
    let mut replies_open = true;
    loop {
        let bytes = tokio::select! {
            next = reader.next() => match next {
                Ok(Some(Frame::Body(body))) => frame(&body),
                Ok(Some(_)) => continue,
                Ok(None) | Err(_) => break,
            },
            reply = replies.recv(), if replies_open => match reply {
                Some(bytes) => bytes,
                None => { replies_open = false; continue; }
            },
        };
        if output.write_all(&bytes).await.is_err() || output.flush().await.is_err() {
            break;
        }
    }
    // Late error replies still go out.
    while let Ok(bytes) = replies.try_recv() {
        let _ = output.write_all(&bytes).await;
    }
    let _ = output.flush().await;
}

/// The tasks that feed tower-lsp's input pipe and drain its output pipe.
pub struct Pumps {
    input_task: tokio::task::JoinHandle<()>,
    output_task: tokio::task::JoinHandle<()>,
}

/// Guards `input`/`output`: returns the pipes to hand to tower-lsp (its
/// input, its output) and the pumps to [`Pumps::finish`] once it stopped.
pub fn guard<R, W>(input: R, output: W) -> (DuplexStream, DuplexStream, Pumps)
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (to_server, server_input) = tokio::io::duplex(PIPE);
    let (server_output, from_server) = tokio::io::duplex(PIPE);
    let (tx, rx) = mpsc::unbounded_channel();
    let pumps = Pumps {
        input_task: tokio::spawn(pump_input(input, to_server, tx)),
        output_task: tokio::spawn(pump_output(from_server, rx, output)),
    };
    (server_input, server_output, pumps)
}

impl Pumps {
    /// After the server stopped (and dropped its output pipe): flush what it
    /// wrote, stop reading stdin.
    pub async fn finish(self) {
        let _ = self.output_task.await;
        self.input_task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_messages_pass_and_invalid_ones_get_errors() {
        assert!(check(br#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#).is_ok());
        assert!(check(br#"{"jsonrpc":"2.0","method":"exit"}"#).is_ok());
        assert!(check(br#"{"jsonrpc":"2.0","id":4,"result":null}"#).is_ok());
        let err = String::from_utf8(check(b"{not json").unwrap_err()).unwrap();
        assert!(
            err.contains("-32700") && err.contains("\"id\":null"),
            "{err}"
        );
        let err = String::from_utf8(check(br#"{"jsonrpc":"2.0","id":7,"method":3}"#).unwrap_err())
            .unwrap();
        assert!(err.contains("-32600") && err.contains("\"id\":7"), "{err}");
        let err = String::from_utf8(check(b"[1,2]").unwrap_err()).unwrap();
        assert!(err.contains("-32600"), "{err}");
    }

    #[tokio::test]
    async fn frames_resynchronise_after_garbage() {
        let input: &[u8] =
            b"Content-Length: 2\r\n\r\n{}garbage line\r\nmore\r\nContent-Length: 3\r\n\r\n[1]";
        let mut reader = FrameReader::new(input);
        assert!(matches!(reader.next().await.unwrap(), Some(Frame::Body(b)) if b == b"{}"));
        assert!(matches!(
            reader.next().await.unwrap(),
            Some(Frame::BadHeader(_))
        ));
        assert!(matches!(reader.next().await.unwrap(), Some(Frame::Body(b)) if b == b"[1]"));
        assert!(reader.next().await.unwrap().is_none());
    }
}
