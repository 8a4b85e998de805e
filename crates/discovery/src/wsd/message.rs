//! Reads the SOAP 1.2 envelopes of WS-Discovery (OASIS WS-Discovery 1.1 sections 4 to 6, 2005/04
//! namespace) and WS-Transfer Get (DPWS section 5.1) that arrive from the network: the addressing
//! headers (`wsa:Action`, `wsa:MessageID`) and the parts of the body rsmbd answers (Probe's `Types`,
//! Resolve's endpoint address).
//!
//! The input is untrusted: its size is bounded by the caller ([`MAX_MESSAGE`]), nesting by
//! [`MAX_DEPTH`], and any document type declaration or entity other than XML's five predefined ones
//! and character references is refused, so no entity can expand (quick-xml never expands DTD
//! entities; refusing them here makes that explicit). Elements are matched by local name; the action
//! URI says which protocol a message belongs to.

use quick_xml::events::Event;
use quick_xml::Reader;

/// Largest datagram or HTTP body accepted.
pub const MAX_MESSAGE: usize = 32 * 1024;
/// Deepest element nesting accepted (real messages nest about 6 deep).
pub const MAX_DEPTH: usize = 32;

/// Why a message was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    TooLarge,
    TooDeep,
    /// A DOCTYPE or an entity reference other than the predefined ones.
    Entity,
    /// Not well-formed XML, or not UTF-8.
    Malformed,
    /// No `wsa:Action` header.
    NoAction,
}

/// A parsed message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    pub action: String,
    pub message_id: String,
    /// `wsd:Types` of a Probe: QNames separated by white space.
    pub types: String,
    /// The `wsa:Address` of a Resolve's endpoint reference.
    pub address: String,
}

impl Message {
    /// The QName local parts of a Probe's `Types`.
    pub fn type_names(&self) -> impl Iterator<Item = &str> {
        self.types
            .split_whitespace()
            .map(|q| q.rsplit(':').next().unwrap_or(q))
    }
}

/// Where a text node lands.
#[derive(Clone, Copy)]
enum Field {
    Action,
    MessageId,
    Types,
    Address,
}

/// The field whose text the element path `stack` holds, if any.
fn field(stack: &[Vec<u8>]) -> Option<Field> {
    let path: Vec<&[u8]> = stack.iter().map(Vec::as_slice).collect();
    match path.as_slice() {
        [b"Envelope", b"Header", b"Action"] => Some(Field::Action),
        [b"Envelope", b"Header", b"MessageID"] => Some(Field::MessageId),
        [b"Envelope", b"Body", b"Probe", b"Types"] => Some(Field::Types),
        [b"Envelope", b"Body", b"Resolve", b"EndpointReference", b"Address"] => {
            Some(Field::Address)
        }
        _ => None,
    }
}

/// Parses one message.
pub fn parse(input: &[u8]) -> Result<Message, Refused> {
    if input.len() > MAX_MESSAGE {
        return Err(Refused::TooLarge);
    }
    let mut reader = Reader::from_reader(input);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<Vec<u8>> = Vec::new();
    let mut msg = Message::default();
    loop {
        let event = reader.read_event().map_err(|_| Refused::Malformed)?;
        match event {
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(Refused::TooDeep);
                }
                stack.push(e.local_name().as_ref().to_vec());
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Text(t) => {
                let text = t.decode().map_err(|_| Refused::Malformed)?;
                append(&mut msg, field(&stack), &text);
            }
            Event::CData(t) => {
                let text = t.decode().map_err(|_| Refused::Malformed)?;
                append(&mut msg, field(&stack), &text);
            }
            Event::GeneralRef(r) => {
                let text = resolve_reference(&r)?;
                append(&mut msg, field(&stack), &text);
            }
            Event::DocType(_) => return Err(Refused::Entity),
            Event::Eof => break,
            Event::Empty(_) | Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
    }
    if msg.action.is_empty() {
        return Err(Refused::NoAction);
    }
    Ok(msg)
}

/// A character reference or one of XML's predefined entities; anything else is refused.
fn resolve_reference(r: &quick_xml::events::BytesRef<'_>) -> Result<String, Refused> {
    if r.is_char_ref() {
        return match r.resolve_char_ref() {
            Ok(Some(c)) => Ok(c.to_string()),
            _ => Err(Refused::Malformed),
        };
    }
    let name = r.decode().map_err(|_| Refused::Malformed)?;
    quick_xml::escape::resolve_predefined_entity(&name)
        .map(str::to_owned)
        .ok_or(Refused::Entity)
}

fn append(msg: &mut Message, field: Option<Field>, text: &str) {
    let target = match field {
        Some(Field::Action) => &mut msg.action,
        Some(Field::MessageId) => &mut msg.message_id,
        Some(Field::Types) => &mut msg.types,
        Some(Field::Address) => &mut msg.address,
        None => return,
    };
    target.push_str(text.trim());
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROBE: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"
  xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing"
  xmlns:wsd="http://schemas.xmlsoap.org/ws/2005/04/discovery"
  xmlns:wsdp="http://schemas.xmlsoap.org/ws/2006/02/devprof">
 <soap:Header>
  <wsa:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</wsa:To>
  <wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</wsa:Action>
  <wsa:MessageID>urn:uuid:0b2b5e2c-1b6f-4f53-9d0e-7a3c8e1f2a11</wsa:MessageID>
 </soap:Header>
 <soap:Body><wsd:Probe><wsd:Types>wsdp:Device</wsd:Types></wsd:Probe></soap:Body>
</soap:Envelope>"#;

    #[test]
    fn probe() {
        let m = parse(PROBE.as_bytes()).unwrap();
        assert_eq!(
            m.action,
            "http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe"
        );
        assert_eq!(
            m.message_id,
            "urn:uuid:0b2b5e2c-1b6f-4f53-9d0e-7a3c8e1f2a11"
        );
        assert_eq!(m.type_names().collect::<Vec<_>>(), ["Device"]);
    }

    #[test]
    fn resolve_with_predefined_and_character_references() {
        let xml = "<s:Envelope xmlns:s='x'><s:Header><a:Action xmlns:a='y'>act&amp;&#x41;</a:Action>\
                   </s:Header><s:Body><d:Resolve xmlns:d='z'><a:EndpointReference xmlns:a='y'>\
                   <a:Address>urn:uuid:1</a:Address></a:EndpointReference></d:Resolve></s:Body></s:Envelope>";
        let m = parse(xml.as_bytes()).unwrap();
        assert_eq!(m.action, "act&A");
        assert_eq!(m.address, "urn:uuid:1");
    }

    #[test]
    fn billion_laughs_is_refused_without_expanding() {
        let mut xml =
            String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
        for i in 1..10 {
            let prev = if i == 1 {
                "lol".to_owned()
            } else {
                format!("lol{}", i - 1)
            };
            let refs = format!("&{prev};").repeat(10);
            xml.push_str(&format!("<!ENTITY lol{i} \"{refs}\">\n"));
        }
        xml.push_str("]>\n<Envelope><Header><Action>&lol9;</Action></Header></Envelope>");
        assert_eq!(parse(xml.as_bytes()), Err(Refused::Entity));
        // The same reference without the DTD is an undefined entity: refused, not expanded.
        let bare = "<Envelope><Header><Action>&lol9;</Action></Header></Envelope>";
        assert_eq!(parse(bare.as_bytes()), Err(Refused::Entity));
    }

    #[test]
    fn external_entities_are_refused() {
        let xml = "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>\
                   <Envelope><Header><Action>&e;</Action></Header></Envelope>";
        assert_eq!(parse(xml.as_bytes()), Err(Refused::Entity));
    }

    #[test]
    fn bounds_and_garbage() {
        assert_eq!(parse(&vec![b' '; MAX_MESSAGE + 1]), Err(Refused::TooLarge));
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert_eq!(parse(deep.as_bytes()), Err(Refused::TooDeep));
        assert_eq!(parse(b"<a></b>"), Err(Refused::Malformed));
        assert_eq!(parse(b"\xff\xfe<a/>"), Err(Refused::Malformed));
        assert_eq!(parse(b"<Envelope/>"), Err(Refused::NoAction));
        assert_eq!(parse(b""), Err(Refused::NoAction));
    }
}
