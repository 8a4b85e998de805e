//! Writes the messages rsmbd sends: WS-Discovery Hello, Bye, ProbeMatches and ResolveMatches (OASIS
//! WS-Discovery 1.1 sections 4.1, 4.2, 5.3, 6.3, in the 2005/04 namespace Windows uses) and the
//! WS-Transfer GetResponse carrying the DPWS device metadata (DPWS section 5, with the host
//! relationship and `pub:Computer` of MS-PBSD that Windows shows as name and workgroup).
//!
//! Every value from the configuration is escaped; nothing from the network is echoed except a
//! request's MessageID (escaped too) in `wsa:RelatesTo`.

use super::Device;
use quick_xml::escape::escape;

pub const ACTION_HELLO: &str = "http://schemas.xmlsoap.org/ws/2005/04/discovery/Hello";
pub const ACTION_BYE: &str = "http://schemas.xmlsoap.org/ws/2005/04/discovery/Bye";
pub const ACTION_PROBE: &str = "http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe";
pub const ACTION_PROBE_MATCHES: &str =
    "http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches";
pub const ACTION_RESOLVE: &str = "http://schemas.xmlsoap.org/ws/2005/04/discovery/Resolve";
pub const ACTION_RESOLVE_MATCHES: &str =
    "http://schemas.xmlsoap.org/ws/2005/04/discovery/ResolveMatches";
pub const ACTION_GET: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get";
const ACTION_GET_RESPONSE: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse";

/// `wsa:To` of multicast messages (WS-Discovery 1.1 section 2.4).
const TO_DISCOVERY: &str = "urn:schemas-xmlsoap-org:ws:2005:04:discovery";
/// `wsa:To` of replies (WS-Addressing's anonymous endpoint).
const TO_ANONYMOUS: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous";
const DEVPROF: &str = "http://schemas.xmlsoap.org/ws/2006/02/devprof";
/// The device types announced: a DPWS device that is a Windows computer (MS-PBSD).
const TYPES: &str = "wsdp:Device pub:Computer";

const NAMESPACES: &str = concat!(
    r#"xmlns:soap="http://www.w3.org/2003/05/soap-envelope" "#,
    r#"xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" "#,
    r#"xmlns:wsd="http://schemas.xmlsoap.org/ws/2005/04/discovery" "#,
    r#"xmlns:wsx="http://schemas.xmlsoap.org/ws/2004/09/mex" "#,
    r#"xmlns:wsdp="http://schemas.xmlsoap.org/ws/2006/02/devprof" "#,
    r#"xmlns:pub="http://schemas.microsoft.com/windows/pub/2005/07" "#,
    r#"xmlns:pnpx="http://schemas.microsoft.com/windows/pnpx/2005/10""#,
);

/// What goes in the SOAP header besides the action.
struct Header<'a> {
    action: &'a str,
    to: &'a str,
    relates_to: Option<&'a str>,
    /// Multicast discovery messages carry `wsd:AppSequence` (section 7).
    sequenced: bool,
}

fn envelope(device: &Device, h: &Header<'_>, body: &str) -> String {
    let relates = h
        .relates_to
        .map(|id| format!("<wsa:RelatesTo>{}</wsa:RelatesTo>", escape(id)))
        .unwrap_or_default();
    let sequence = if h.sequenced {
        format!(
            r#"<wsd:AppSequence InstanceId="{}" SequenceId="urn:uuid:{}" MessageNumber="{}"/>"#,
            device.instance_id,
            device.sequence_id,
            device.next_message_number()
        )
    } else {
        String::new()
    };
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope {ns}><soap:Header>"#,
            "<wsa:To>{to}</wsa:To><wsa:Action>{action}</wsa:Action>",
            "<wsa:MessageID>urn:uuid:{id}</wsa:MessageID>{relates}{sequence}</soap:Header>",
            "<soap:Body>{body}</soap:Body></soap:Envelope>"
        ),
        ns = NAMESPACES,
        to = h.to,
        action = h.action,
        id = super::random_uuid(),
        relates = relates,
        sequence = sequence,
        body = body,
    )
}

fn endpoint_reference(device: &Device) -> String {
    format!(
        "<wsa:EndpointReference><wsa:Address>{}</wsa:Address></wsa:EndpointReference>",
        device.urn()
    )
}

/// The endpoint reference, types, transport address and metadata version of a Hello or a match.
fn description(device: &Device, xaddr: &str) -> String {
    format!(
        "{}<wsd:Types>{TYPES}</wsd:Types><wsd:XAddrs>{}</wsd:XAddrs>\
         <wsd:MetadataVersion>{}</wsd:MetadataVersion>",
        endpoint_reference(device),
        escape(xaddr),
        super::METADATA_VERSION
    )
}

pub fn hello(device: &Device, xaddr: &str) -> String {
    let body = format!("<wsd:Hello>{}</wsd:Hello>", description(device, xaddr));
    announcement(device, ACTION_HELLO, &body)
}

pub fn bye(device: &Device) -> String {
    let body = format!("<wsd:Bye>{}</wsd:Bye>", endpoint_reference(device));
    announcement(device, ACTION_BYE, &body)
}

/// A multicast message to every client (Hello, Bye).
fn announcement(device: &Device, action: &str, body: &str) -> String {
    let h = Header {
        action,
        to: TO_DISCOVERY,
        relates_to: None,
        sequenced: true,
    };
    envelope(device, &h, body)
}

pub fn probe_matches(device: &Device, xaddr: &str, relates_to: &str) -> String {
    matches(device, xaddr, relates_to, ACTION_PROBE_MATCHES, "Probe")
}

pub fn resolve_matches(device: &Device, xaddr: &str, relates_to: &str) -> String {
    matches(device, xaddr, relates_to, ACTION_RESOLVE_MATCHES, "Resolve")
}

/// A ProbeMatches or ResolveMatches (`kind`) reply with the one match this device is.
fn matches(device: &Device, xaddr: &str, relates_to: &str, action: &str, kind: &str) -> String {
    let h = Header {
        action,
        to: TO_ANONYMOUS,
        relates_to: Some(relates_to),
        sequenced: true,
    };
    let body = format!(
        "<wsd:{kind}Matches><wsd:{kind}Match>{}</wsd:{kind}Match></wsd:{kind}Matches>",
        description(device, xaddr)
    );
    envelope(device, &h, &body)
}

/// The device metadata: ThisDevice, ThisModel and the host relationship whose `pub:Computer` reads
/// `NAME/Workgroup:WORKGROUP`.
pub fn get_response(device: &Device, relates_to: &str) -> String {
    let h = Header {
        action: ACTION_GET_RESPONSE,
        to: TO_ANONYMOUS,
        relates_to: Some(relates_to),
        sequenced: false,
    };
    let name = escape(&device.netbios_name);
    let this_device = format!(
        "<wsdp:ThisDevice><wsdp:FriendlyName>rsmbd {name}</wsdp:FriendlyName>\
         <wsdp:FirmwareVersion>{}</wsdp:FirmwareVersion><wsdp:SerialNumber>1</wsdp:SerialNumber>\
         </wsdp:ThisDevice>",
        env!("CARGO_PKG_VERSION")
    );
    let this_model = "<wsdp:ThisModel><wsdp:Manufacturer>rsmbd</wsdp:Manufacturer>\
                      <wsdp:ModelName>rsmbd</wsdp:ModelName>\
                      <pnpx:DeviceCategory>Computers</pnpx:DeviceCategory></wsdp:ThisModel>";
    let computer = format!("{}/Workgroup:{}", device.netbios_name, device.workgroup);
    let host = format!(
        r#"<wsdp:Relationship Type="{DEVPROF}/host"><wsdp:Host>{}<wsdp:Types>pub:Computer</wsdp:Types>"#,
        endpoint_reference(device)
    ) + &format!(
        "<wsdp:ServiceId>{}</wsdp:ServiceId><pub:Computer>{}</pub:Computer></wsdp:Host></wsdp:Relationship>",
        device.urn(),
        escape(&computer)
    );
    let body = format!(
        "<wsx:Metadata>{}{}{}</wsx:Metadata>",
        metadata_section("ThisDevice", &this_device),
        metadata_section("ThisModel", this_model),
        metadata_section("Relationship", &host)
    );
    envelope(device, &h, &body)
}

/// One `wsx:MetadataSection` of a DPWS dialect (`ThisDevice`, `ThisModel`, `Relationship`).
fn metadata_section(dialect: &str, content: &str) -> String {
    format!(r#"<wsx:MetadataSection Dialect="{DEVPROF}/{dialect}">{content}</wsx:MetadataSection>"#)
}

#[cfg(test)]
mod tests {
    use super::super::message::parse;
    use super::*;

    fn device() -> Device {
        Device::new("NAS<&>", "HOME")
    }

    #[test]
    fn messages_are_well_formed_and_read_back() {
        let d = device();
        let xaddr = "http://192.0.2.7:5357/x";
        for (xml, action) in [
            (hello(&d, xaddr), ACTION_HELLO),
            (bye(&d), ACTION_BYE),
            (probe_matches(&d, xaddr, "urn:uuid:1"), ACTION_PROBE_MATCHES),
            (
                resolve_matches(&d, xaddr, "urn:uuid:1"),
                ACTION_RESOLVE_MATCHES,
            ),
            (get_response(&d, "urn:uuid:<1>"), ACTION_GET_RESPONSE),
        ] {
            let m = parse(xml.as_bytes()).unwrap_or_else(|e| panic!("{e:?}: {xml}"));
            assert_eq!(m.action, action);
            assert!(m.message_id.starts_with("urn:uuid:"));
        }
    }

    #[test]
    fn get_response_names_the_computer_and_workgroup() {
        let xml = get_response(&device(), "urn:uuid:1");
        assert!(
            xml.contains("<pub:Computer>NAS&lt;&amp;&gt;/Workgroup:HOME</pub:Computer>"),
            "{xml}"
        );
        assert!(xml.contains(&device().urn()));
    }

    #[test]
    fn sequence_numbers_increase() {
        let d = device();
        let a = hello(&d, "x");
        let b = bye(&d);
        assert!(a.contains(r#"MessageNumber="1""#) && b.contains(r#"MessageNumber="2""#));
    }
}
