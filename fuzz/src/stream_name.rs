//! Target `stream_name`: CREATE names with a stream part (MS-FSCC 2.1.5 `file:stream:type`) and stream
//! rename targets (MS-FSA 2.1.5.15.11.1 `:stream:type`), as they arrive on the wire in UTF-16LE. Beyond
//! panics, it checks that whatever is accepted cannot reach outside the object it names: the path has no
//! `..` component and is relative, and a stream name holds no separator, colon or NUL.

pub fn run(data: &[u8]) {
    let Ok(name) = proto::reader::utf16le_to_string(data) else {
        return;
    };
    if let Ok(parsed) = vfs::parse_name(&name) {
        let unix = parsed.path.as_unix();
        assert!(!unix.starts_with('/'), "absolute path from {name:?}");
        assert!(
            unix.split('/').all(|c| c != ".."),
            "parent component from {name:?}"
        );
        if let vfs::StreamPart::Named(stream) = &parsed.stream {
            check_stream(stream, &name);
        }
    }
    if let Ok(Some(stream)) = vfs::parse_rename_target(&name) {
        check_stream(&stream, &name);
    }
}

fn check_stream(stream: &vfs::StreamName, name: &str) {
    let s = stream.as_str();
    assert!(!s.is_empty(), "empty stream name from {name:?}");
    assert!(
        !s.contains(['\\', '/', ':', '\0']),
        "stream name {s:?} from {name:?}"
    );
}
