//! The device metadata service: HTTP/1.1 (RFC 9112) POST of a SOAP WS-Transfer Get to `/<endpoint
//! uuid>` on TCP 5357, answered with the GetResponse of DPWS section 5 (see [`super::envelope`]).
//!
//! The request line and headers are parsed by `httparse`; the exchange around it is written here (a
//! whole HTTP server such as hyper would bring a large dependency tree for one POST). It is bounded
//! here: headers at most [`MAX_HEAD`] bytes and [`MAX_HEADERS`] lines, a body (by Content-Length only;
//! no chunked encoding) at most [`MAX_MESSAGE`], one request per connection, [`MAX_CONNECTIONS`]
//! connections at once (more are closed at once) and [`CONNECTION_TIMEOUT`] for the whole exchange.

use super::envelope;
use super::message::{self, MAX_MESSAGE};
use super::Device;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};

pub const MAX_HEAD: usize = 8 * 1024;
pub const MAX_HEADERS: usize = 32;
pub const MAX_CONNECTIONS: usize = 16;
pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);

/// A complete request: its path and where its body lies in the buffer.
#[derive(Debug, PartialEq, Eq)]
pub struct Request {
    pub path: String,
    pub body: std::ops::Range<usize>,
}

/// Why a request is answered with an error status.
#[derive(Debug, PartialEq, Eq)]
pub enum Rejected {
    /// 400: not HTTP, or a framing this server does not accept.
    BadRequest,
    /// 405: not POST.
    Method,
    /// 411: no Content-Length.
    NoLength,
    /// 413 / 431: body or headers too large.
    TooLarge,
}

impl Rejected {
    fn status(&self) -> &'static str {
        match self {
            Rejected::BadRequest => "400 Bad Request",
            Rejected::Method => "405 Method Not Allowed",
            Rejected::NoLength => "411 Length Required",
            Rejected::TooLarge => "413 Content Too Large",
        }
    }
}

/// Parses what has arrived so far: `Ok(None)` while the request is incomplete.
pub fn parse_request(buf: &[u8]) -> Result<Option<Request>, Rejected> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let head_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => return Err(Rejected::TooLarge),
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(Rejected::TooLarge),
        Err(_) => return Err(Rejected::BadRequest),
    };
    if head_len > MAX_HEAD {
        return Err(Rejected::TooLarge);
    }
    if req.method != Some("POST") {
        return Err(Rejected::Method);
    }
    let header = |name: &str| {
        req.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
    };
    if header("transfer-encoding").is_some() {
        return Err(Rejected::BadRequest);
    }
    let length = header("content-length").ok_or(Rejected::NoLength)?;
    let length: usize = std::str::from_utf8(length.value)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .ok_or(Rejected::BadRequest)?;
    if length > MAX_MESSAGE {
        return Err(Rejected::TooLarge);
    }
    let end = head_len.checked_add(length).ok_or(Rejected::TooLarge)?;
    if buf.len() < end {
        return Ok(None);
    }
    Ok(Some(Request {
        path: req.path.unwrap_or_default().to_owned(),
        body: head_len..end,
    }))
}

pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Accepts metadata requests until `stop`.
pub async fn serve(listener: TcpListener, device: Arc<Device>, stop: watch::Receiver<bool>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let stopped = crate::wait_for_stop(stop);
    tokio::pin!(stopped);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut stopped => return,
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    tracing::debug!("WS-Discovery HTTP accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            tracing::debug!("WS-Discovery HTTP: too many connections, closing {peer}");
            continue;
        };
        let device = Arc::clone(&device);
        tokio::spawn(async move {
            if tokio::time::timeout(CONNECTION_TIMEOUT, exchange(stream, &device))
                .await
                .is_err()
            {
                tracing::debug!("WS-Discovery HTTP: {peer} timed out");
            }
            drop(slot);
        });
    }
}

/// Reads one request and writes its response.
async fn exchange(mut stream: TcpStream, device: &Device) {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let response = loop {
        match parse_request(&buf) {
            Ok(Some(req)) => {
                break respond(device, &req, buf.get(req.body.clone()).unwrap_or_default())
            }
            Ok(None) => {}
            Err(e) => break error_response(&e),
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
        }
    };
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// The response to a complete request.
pub fn respond(device: &Device, req: &Request, body: &[u8]) -> String {
    if req.path.trim_start_matches('/') != device.endpoint.to_string() {
        return reply("404 Not Found", "");
    }
    match message::parse(body) {
        Ok(m) if m.action == envelope::ACTION_GET => {
            reply("200 OK", &envelope::get_response(device, &m.message_id))
        }
        _ => reply("400 Bad Request", ""),
    }
}

fn error_response(e: &Rejected) -> String {
    reply(e.status(), "")
}

fn reply(status: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/soap+xml\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(device: &Device) -> String {
        format!(
            "<soap:Envelope xmlns:soap='s' xmlns:wsa='a'><soap:Header><wsa:To>{}</wsa:To>\
             <wsa:Action>{}</wsa:Action><wsa:MessageID>urn:uuid:9</wsa:MessageID></soap:Header>\
             <soap:Body/></soap:Envelope>",
            device.urn(),
            envelope::ACTION_GET
        )
    }

    fn post(path: &str, body: &str) -> String {
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    }

    #[test]
    fn get_is_answered_with_the_metadata() {
        let d = Device::new("NAS", "WORKGROUP");
        let raw = post(&format!("/{}", d.endpoint), &get(&d));
        let req = parse_request(raw.as_bytes()).unwrap().unwrap();
        let out = respond(&d, &req, raw.as_bytes().get(req.body.clone()).unwrap());
        assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
        assert!(out.contains("<pub:Computer>NAS/Workgroup:WORKGROUP</pub:Computer>"));
        assert!(out.contains("<wsa:RelatesTo>urn:uuid:9</wsa:RelatesTo>"));
        let wrong = Request {
            path: "/nope".into(),
            body: 0..0,
        };
        assert!(respond(&d, &wrong, b"").starts_with("HTTP/1.1 404"));
        assert!(respond(&d, &req, b"<x/>").starts_with("HTTP/1.1 400"));
    }

    #[test]
    fn incomplete_requests_wait_and_bad_ones_are_rejected() {
        let raw = post("/x", "<a/>");
        for cut in 0..raw.len() {
            assert_eq!(
                parse_request(raw.as_bytes().get(..cut).unwrap()),
                Ok(None),
                "{cut}"
            );
        }
        assert!(parse_request(raw.as_bytes()).unwrap().is_some());
        assert_eq!(
            parse_request(b"GET / HTTP/1.1\r\n\r\n"),
            Err(Rejected::Method)
        );
        assert_eq!(
            parse_request(b"POST / HTTP/1.1\r\n\r\n"),
            Err(Rejected::NoLength)
        );
        assert_eq!(
            parse_request(b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n"),
            Err(Rejected::BadRequest)
        );
        assert_eq!(
            parse_request(b"POST / HTTP/1.1\r\nContent-Length: 40000\r\n\r\n"),
            Err(Rejected::TooLarge)
        );
        assert_eq!(
            parse_request(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Err(Rejected::BadRequest)
        );
        assert_eq!(
            parse_request(b"\x00\x01garbage\r\n\r\n"),
            Err(Rejected::BadRequest)
        );
        let huge_head = format!("POST / HTTP/1.1\r\nX: {}", "a".repeat(MAX_HEAD));
        assert_eq!(parse_request(huge_head.as_bytes()), Err(Rejected::TooLarge));
        let many = format!(
            "POST / HTTP/1.1\r\n{}\r\n",
            "A: b\r\n".repeat(MAX_HEADERS + 1)
        );
        assert_eq!(parse_request(many.as_bytes()), Err(Rejected::TooLarge));
    }
}
