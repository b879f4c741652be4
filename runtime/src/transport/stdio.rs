//! stdio: newline-delimited JSON-RPC on stdin/stdout. Logs go to stderr only,
//! so stdout carries nothing but protocol messages.
//!
//! The session ends at end of input, and also when stdout is closed under
//! us (a broken pipe): nobody is left to read the answers.

use crate::jsonrpc::{Message, Response};
use crate::server::Server;
use crate::session::{Inbox, Outbound, Outgoing, Session};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How long requests read before end of input may still run.
const DRAIN_GRACE: Duration = Duration::from_secs(30);

/// The default longest line: larger ones are answered with an error and
/// skipped (read, never held). The same default as the HTTP body limit.
pub const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;

/// Serve on stdin/stdout (one JSON-RPC message per line) until stdin closes.
pub async fn serve(server: Server) -> std::io::Result<()> {
    serve_limited(server, MAX_LINE_BYTES).await
}

/// [`serve`] with another line limit (`--max-body-bytes`).
pub async fn serve_limited(server: Server, max_line_bytes: usize) -> std::io::Result<()> {
    serve_io_limited(
        server,
        tokio::io::stdin(),
        tokio::io::stdout(),
        max_line_bytes,
    )
    .await
}

/// Serve one session over any byte streams (stdin/stdout, a pipe, a test duplex).
pub async fn serve_io<R, W>(server: Server, reader: R, writer: W) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    serve_io_limited(server, reader, writer, MAX_LINE_BYTES).await
}

/// Whether a write error means the reader is gone, which ends the session
/// cleanly, like end of input.
fn reader_gone(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
    )
}

/// [`serve_io`] with a line limit.
pub async fn serve_io_limited<R, W>(
    server: Server,
    reader: R,
    writer: W,
    max_line_bytes: usize,
) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let session = server.create_session();
    let (out, rx) = Outbound::channel();
    session.set_notifier(Some(out.clone()));
    // Cancelled when stdout fails: reading on would run requests whose
    // answers nobody can get.
    let output_closed = CancellationToken::new();
    let write_task = spawn_writer(writer, rx, output_closed.clone());

    let max_values = crate::jsonrpc::values_for_bytes(max_line_bytes);
    let mut in_flight = JoinSet::new();
    // End of input ends open `subscriptions/listen` requests at once.
    let input_ended = CancellationToken::new();
    let mut reader = BufReader::new(reader);
    let mut line = Vec::new();
    loop {
        // Reap finished requests so a long session does not accumulate them.
        while in_flight.try_join_next().is_some() {}
        line.clear();
        let n = tokio::select! {
            n = read_line_limited(&mut reader, &mut line, max_line_bytes) => n?,
            _ = output_closed.cancelled() => break,
        };
        if n == 0 {
            break;
        }
        if let Some(msg) = parse_line(&line, max_line_bytes, max_values, &out) {
            let ended = input_ended.clone();
            dispatch(&server, &session, msg, &out, &mut in_flight, ended).await;
        }
    }
    // End of input: requests already read still get their answers (within a
    // grace period); those waiting on the client cannot, so they fail now.
    // With stdout gone there is nobody to answer: they are cancelled.
    session.fail_pending();
    input_ended.cancel();
    if output_closed.is_cancelled() {
        in_flight.abort_all();
    }
    let drained = async { while in_flight.join_next().await.is_some() {} };
    if tokio::time::timeout(DRAIN_GRACE, drained).await.is_err() {
        tracing::warn!("requests still running {DRAIN_GRACE:?} after end of input were cancelled");
    }
    server.close_session(session.id());
    drop(out);
    match tokio::time::timeout(Duration::from_secs(2), write_task).await {
        Ok(Ok(Err(e))) if reader_gone(&e) => {
            tracing::debug!("stdout closed by the client: session ended");
            Ok(())
        }
        Ok(Ok(r)) => r,
        _ => Ok(()),
    }
}

/// Write every outgoing message as one line; `closed` is cancelled when
/// the task ends, for whatever reason.
fn spawn_writer<W>(
    mut writer: W,
    mut rx: Inbox,
    closed: CancellationToken,
) -> tokio::task::JoinHandle<std::io::Result<()>>
where
    W: AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let _closed = closed.drop_guard();
        while let Some(o) = rx.recv().await {
            if let Outgoing::Message(m) = o {
                let mut line = m.to_json();
                line.push('\n');
                writer.write_all(line.as_bytes()).await?;
                writer.flush().await?;
            }
        }
        Ok(())
    })
}

/// One line as a message; what cannot be one is answered with an error
/// (or skipped, when blank) and gives `None`.
fn parse_line(
    line: &[u8],
    max_line_bytes: usize,
    max_values: usize,
    out: &Outbound,
) -> Option<Message> {
    if line.len() > max_line_bytes {
        let e = crate::jsonrpc::ErrorObject::new(
            crate::jsonrpc::INVALID_REQUEST,
            format!("message too large: the limit is {max_line_bytes} bytes"),
        );
        out.send(Message::Response(Response::err(None, e)));
        return None;
    }
    let text = line.trim_ascii();
    if text.is_empty() {
        return None;
    }
    match Message::from_slice_within(text, max_values) {
        Ok(m) => Some(m),
        Err(resp) => {
            out.send(Message::Response(*resp));
            None
        }
    }
}

/// Requests run concurrently; notifications and responses are handled in
/// order, so `initialized` and cancellations apply at once.
async fn dispatch(
    server: &Server,
    session: &Arc<Session>,
    msg: Message,
    out: &Outbound,
    in_flight: &mut JoinSet<()>,
    input_ended: CancellationToken,
) {
    match msg {
        // MCP 2026-07-28: served statelessly beside the session (which
        // only lends its cancellation bookkeeping: notifications/cancelled).
        Message::Request(r)
            if r.method != "initialize"
                && server.serves_protocol_2026()
                && crate::modern::is_modern(&r) =>
        {
            let (server, session, out) = (server.clone(), session.clone(), out.clone());
            in_flight.spawn(async move {
                let id = r.id.clone();
                let Some(cancel) = session.begin_request(&id) else {
                    let e = crate::jsonrpc::ErrorObject::new(
                        crate::jsonrpc::INVALID_REQUEST,
                        format!("a request with id {id} is already in flight"),
                    );
                    out.send(Message::Response(Response::err(Some(id), e)));
                    return;
                };
                let listen = r.method == "subscriptions/listen";
                let resp = tokio::select! {
                    r = server.serve_stateless(r, out.clone(), cancel, None, Default::default()) => r,
                    _ = input_ended.cancelled(), if listen => None,
                };
                session.end_request(&id);
                if let Some(resp) = resp {
                    out.send(Message::Response(resp));
                }
            });
        }
        Message::Request(ref r) if r.method != "initialize" => {
            let (server, session, out) = (server.clone(), session.clone(), out.clone());
            in_flight.spawn(async move {
                if let Some(resp) = server.handle(&session, msg, out.clone()).await {
                    out.send(Message::Response(resp));
                }
            });
        }
        other => {
            if let Some(resp) = server.handle(session, other, out.clone()).await {
                out.send(Message::Response(resp));
            }
        }
    }
}

/// Read one line, keeping at most `max + 1` bytes of it.
async fn read_line_limited<R: AsyncBufReadExt + Unpin>(
    r: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<usize> {
    let mut total = 0;
    loop {
        let chunk = r.fill_buf().await?;
        if chunk.is_empty() {
            return Ok(total);
        }
        let (used, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        let room = (max + 1).saturating_sub(buf.len());
        buf.extend_from_slice(&chunk[..used.min(room)]);
        r.consume(used);
        total += used;
        if done {
            return Ok(total);
        }
    }
}
