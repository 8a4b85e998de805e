//! Target `wsd`: what WS-Discovery reads from the network. The input goes to the SOAP message reader
//! (`discovery::wsd::message::parse`: datagrams on UDP 3702 and HTTP bodies) and to the metadata
//! service's HTTP request parser; a request it completes is answered as the server would. A message that
//! parses must name an action, and a complete request's body must lie within the input.

use discovery::wsd::{http, message, Device};
use std::sync::OnceLock;

fn device() -> &'static Device {
    static DEVICE: OnceLock<Device> = OnceLock::new();
    DEVICE.get_or_init(|| Device::new("FUZZ", "WORKGROUP"))
}

pub fn run(data: &[u8]) {
    if let Ok(m) = message::parse(data) {
        assert!(!m.action.is_empty(), "a parsed message names its action");
    }
    if let Ok(Some(req)) = http::parse_request(data) {
        let body = data
            .get(req.body.clone())
            .expect("the body lies within the input");
        let response = http::respond(device(), &req, body);
        assert!(response.starts_with("HTTP/1.1 "), "{response}");
    }
}
