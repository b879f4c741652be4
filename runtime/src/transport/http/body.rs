//! Reading a POST body under the size limit and the body-read timeout.
//!
//! A declared `Content-Length` over the limit is refused before a byte of
//! the body is read. A refused body is then drained — read and thrown away,
//! bounded in bytes and time — so that a client that writes its whole body
//! before reading (Python's `http.client`, curl without `Expect`) gets the
//! 413 instead of a connection reset.

use axum::body::Bytes;
use http_body_util::BodyExt;
use hyper::body::Body;
use std::time::Duration;

/// Most bytes read and discarded after a body is refused as too large.
pub(crate) const DRAIN_BYTES: u64 = 16 * 1024 * 1024;
/// Longest time spent discarding them.
pub(crate) const DRAIN_TIME: Duration = Duration::from_secs(10);

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BodyError {
    TooLarge,
    TimedOut,
    /// The connection failed or the framing was invalid.
    Broken,
}

/// What the request head says about its body.
pub(crate) struct Declared {
    pub length: Option<u64>,
    /// `Expect: 100-continue`: the client waits for our answer before
    /// sending the body, so a refusal needs no draining.
    pub awaits_continue: bool,
}

/// The whole body, at most `limit` bytes, within `timeout`.
pub(crate) async fn read<B>(
    mut body: B,
    declared: Declared,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, BodyError>
where
    B: Body<Data = Bytes> + Unpin,
{
    if declared.length.is_some_and(|n| n > limit as u64) {
        if !declared.awaits_continue {
            drain(body, declared.length).await;
        }
        return Err(BodyError::TooLarge);
    }
    let declared = declared.length;
    // A body of one frame (most are) is kept as hyper read it, not copied.
    let mut first = Bytes::new();
    let mut buf = Vec::new();
    let collect = async {
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|_| BodyError::Broken)?;
            if let Ok(data) = frame.into_data() {
                if first.len() + buf.len() + data.len() > limit {
                    return Err(BodyError::TooLarge);
                }
                if first.is_empty() && buf.is_empty() {
                    first = data;
                    continue;
                }
                if buf.is_empty() {
                    // Sized once when the length is known, so it never doubles.
                    buf.reserve(
                        declared
                            .map_or(0, |n| n as usize)
                            .max(first.len() + data.len()),
                    );
                    buf.extend_from_slice(&std::mem::take(&mut first));
                }
                buf.extend_from_slice(&data);
            }
        }
        Ok(())
    };
    let read = {
        let mut collect = std::pin::pin!(collect);
        // A body that came with its head (most do) is read at once: no
        // timer is set for it.
        match futures::FutureExt::now_or_never(collect.as_mut()) {
            Some(done) => Ok(done),
            None => tokio::time::timeout(timeout, collect).await,
        }
    };
    match read {
        Ok(Ok(())) if buf.is_empty() => Ok(first),
        Ok(Ok(())) => Ok(Bytes::from(buf)),
        Ok(Err(BodyError::TooLarge)) => {
            drop((first, buf));
            drain(body, None).await;
            Err(BodyError::TooLarge)
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Err(BodyError::TimedOut),
    }
}

/// Read and discard the rest of a refused body, within DRAIN_BYTES and
/// DRAIN_TIME. A body known to be longer is not worth starting on: the
/// connection is closed instead.
async fn drain<B: Body<Data = Bytes> + Unpin>(mut body: B, declared: Option<u64>) {
    if declared.is_some_and(|n| n > DRAIN_BYTES) {
        return;
    }
    let mut seen = 0u64;
    let discard = async {
        while let Some(Ok(frame)) = body.frame().await {
            if let Ok(data) = frame.into_data() {
                seen += data.len() as u64;
                if seen > DRAIN_BYTES {
                    break;
                }
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, discard).await;
}
