//! Property tests: whatever bytes arrive, decoding returns without panicking and never reads past them;
//! what encodes decodes back to the same descriptor.

use proptest::prelude::*;

use crate::ace::{Ace, ObjectTypes};
use crate::acl::Acl;
use crate::sd::{control, SecurityDescriptor};
use crate::sid::Sid;
use crate::{access, Invalid};

fn sid() -> impl Strategy<Value = Sid> {
    (
        0u64..(1 << 48),
        proptest::collection::vec(any::<u32>(), 0..=15),
    )
        .prop_map(|(authority, sub_authorities)| Sid {
            authority,
            sub_authorities,
        })
}

fn ace() -> impl Strategy<Value = Ace> {
    (
        prop_oneof![Just(0u8), Just(1), Just(2), Just(5), Just(9), Just(0x11)],
        any::<u8>(),
        any::<u32>(),
        sid(),
        proptest::option::of(any::<[u8; 16]>()),
        proptest::collection::vec(any::<u8>(), 0..8),
    )
        .prop_map(|(ace_type, flags, mask, sid, guid, data)| Ace {
            ace_type,
            flags,
            mask,
            object: (ace_type == 5).then_some(ObjectTypes {
                object_type: guid,
                inherited_object_type: None,
            }),
            sid,
            data,
        })
}

fn acl() -> impl Strategy<Value = Acl> {
    proptest::collection::vec(ace(), 0..6).prop_map(|aces| {
        let revision = if aces.iter().any(|a| a.object.is_some()) {
            4
        } else {
            2
        };
        Acl { revision, aces }
    })
}

fn sd() -> impl Strategy<Value = SecurityDescriptor> {
    (
        any::<u16>(),
        proptest::option::of(sid()),
        proptest::option::of(sid()),
        proptest::option::of(acl()),
        proptest::option::of(acl()),
        any::<bool>(),
    )
        .prop_map(|(bits, owner, group, sacl, dacl, null_dacl)| {
            let mut c =
                (bits | control::SELF_RELATIVE) & !(control::DACL_PRESENT | control::SACL_PRESENT);
            if sacl.is_some() {
                c |= control::SACL_PRESENT;
            }
            if dacl.is_some() || null_dacl {
                c |= control::DACL_PRESENT;
            }
            SecurityDescriptor {
                control: c,
                owner,
                group,
                sacl,
                dacl,
            }
        })
}

proptest! {
    #[test]
    fn round_trip(sd in sd()) {
        let bytes = sd.encode().unwrap();
        prop_assert_eq!(SecurityDescriptor::decode(&bytes), Ok(sd));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(sd) = SecurityDescriptor::decode(&bytes) {
            let again = sd.encode().unwrap();
            prop_assert_eq!(SecurityDescriptor::decode(&again), Ok(sd));
        }
        let _ = Acl::decode(&bytes);
        let _ = Ace::decode(&bytes);
    }

    /// Any truncation of a valid descriptor is refused or decodes to something else that is valid,
    /// never read past its end.
    #[test]
    fn truncations(sd in sd(), cut in 0usize..400) {
        let bytes = sd.encode().unwrap();
        let cut = cut.min(bytes.len());
        if let Ok(short) = SecurityDescriptor::decode(&bytes[..cut]) {
            prop_assert!(short.encode().unwrap().len() <= bytes.len());
        }
    }

    /// MAXIMUM_ALLOWED grants exactly what a check of those rights grants.
    #[test]
    fn maximal_access_agrees_with_check(sd in sd(), user in sid(), group in sid()) {
        let token = access::Token { user, groups: vec![group] };
        let max = access::maximal_access(&sd, &token);
        if max != 0 {
            prop_assert_eq!(access::check(&sd, &token, max), Some(max));
        }
    }
}

/// ksmbd's integer-overflow class: sizes whose sum would overflow a 16-bit ACL size are refused at
/// encode time rather than wrapped.
#[test]
fn oversized_acl_is_refused() {
    let big = Ace {
        data: vec![0; 65_530],
        ..Ace::new(0, 0, 1, Sid::new(1, &[0]))
    };
    let acl = Acl::new(vec![big.clone()]);
    assert_eq!(acl.write(&mut Vec::new()), Err(Invalid));
    let mut out = Vec::new();
    assert_eq!(
        Acl::new(vec![Ace {
            data: vec![0; 40_000],
            ..big
        }])
        .write(&mut out),
        Ok(())
    );
}
