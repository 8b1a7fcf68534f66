//! Reading server-sent events from a response body: `event:` and `data:`
//! lines, events separated by a blank line (LF or CRLF).

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

/// The events of `body`; `Err` when the connection fails mid-way.
pub fn events(
    body: impl Stream<Item = Result<Bytes, reqwest::Error>> + Send + 'static,
) -> impl Stream<Item = Result<SseEvent, reqwest::Error>> + Send {
    let state = (Box::pin(body), Vec::<u8>::new(), false);
    futures_util::stream::unfold(state, |(mut body, mut buf, mut ended)| async move {
        loop {
            if let Some(event) = take_event(&mut buf, ended) {
                return Some((Ok(event), (body, buf, ended)));
            }
            if ended {
                return None;
            }
            match body.next().await {
                Some(Ok(chunk)) => buf.extend_from_slice(&chunk),
                Some(Err(e)) => {
                    ended = true;
                    buf.clear();
                    return Some((Err(e), (body, buf, ended)));
                }
                None => ended = true,
            }
        }
    })
}

/// The next whole event in `buf`, removed from it. At the end of the body
/// an unterminated last event counts too.
fn take_event(buf: &mut Vec<u8>, ended: bool) -> Option<SseEvent> {
    loop {
        let text = String::from_utf8_lossy(buf).replace("\r\n", "\n");
        let (block, rest) = match text.find("\n\n") {
            Some(i) => (text[..i].to_string(), text[i + 2..].to_string()),
            None if ended && !text.trim().is_empty() => (text.clone(), String::new()),
            None => return None,
        };
        *buf = rest.into_bytes();
        let mut event = None;
        let mut data: Vec<&str> = Vec::new();
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("data:") {
                data.push(v.strip_prefix(' ').unwrap_or(v));
            } else if let Some(v) = line.strip_prefix("event:") {
                event = Some(v.trim().to_string());
            }
        }
        if !data.is_empty() || event.is_some() {
            return Some(SseEvent {
                event,
                data: data.join("\n"),
            });
        }
        // A comment or keep-alive block: look further.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn events_split_across_chunks_and_crlf() {
        let chunks: Vec<Result<Bytes, reqwest::Error>> = vec![
            Ok(Bytes::from_static(
                b": keep-alive\n\nevent: ping\r\ndata: {\"a\"",
            )),
            Ok(Bytes::from_static(
                b":1}\r\n\r\ndata: x\ndata: y\n\ndata: [DONE]",
            )),
        ];
        let got: Vec<SseEvent> = events(futures_util::stream::iter(chunks))
            .map(|e| e.unwrap())
            .collect()
            .await;
        assert_eq!(
            got,
            vec![
                SseEvent {
                    event: Some("ping".into()),
                    data: "{\"a\":1}".into()
                },
                SseEvent {
                    event: None,
                    data: "x\ny".into()
                },
                SseEvent {
                    event: None,
                    data: "[DONE]".into()
                },
            ]
        );
    }
}
