//! The answer to an `AAPL` create context (wire format in [`proto::aapl`]): the server, volume and model
//! information a macOS client asks for on its first CREATE, as vfs_fruit gives it. Only shares with
//! `fruit` answer; only the first query of a connection is answered (later ones are ignored); a
//! malformed query fails the CREATE with STATUS_INVALID_PARAMETER, as Samba answers it.

use proto::aapl::{reply, server_caps, volume_caps, AaplQuery, AaplReply};
use proto::create_context::{self as cc, CreateContext, OwnedCreateContext};
use proto::NtStatus;

use super::{AppleConn, FruitShare};

/// The AAPL response context for `contexts`, if they hold a query this share and connection answer.
pub fn answer(
    apple: &AppleConn,
    share: Option<&FruitShare>,
    model: &str,
    contexts: &[CreateContext<'_>],
) -> Result<Option<OwnedCreateContext>, NtStatus> {
    let (Some(ctx), Some(share)) = (cc::find(contexts, cc::name::AAPL), share) else {
        return Ok(None);
    };
    let query = AaplQuery::decode(ctx.data).map_err(|_| NtStatus::INVALID_PARAMETER)?;
    let reply = reply_for(&query, share, model);
    if !apple.negotiate(reply.server_caps) {
        return Ok(None);
    }
    let data = reply.encode();
    Ok(Some(OwnedCreateContext::new(cc::name::AAPL, &data)))
}

/// The reply: what the client asked for, with what this share offers.
fn reply_for(query: &AaplQuery, share: &FruitShare, model: &str) -> AaplReply {
    let mut caps = server_caps::UNIX_BASED;
    if query.client_caps & server_caps::READ_DIR_ATTR != 0 {
        caps |= server_caps::READ_DIR_ATTR;
    }
    if share.config.copyfile {
        caps |= server_caps::OSX_COPYFILE;
    }
    if share.config.nfs_aces && query.client_caps & server_caps::NFS_ACE != 0 {
        caps |= server_caps::NFS_ACE;
    }
    let mut volume = 0;
    if share.case_sensitive {
        volume |= volume_caps::CASE_SENSITIVE;
    }
    if share.time_machine {
        volume |= volume_caps::FULL_SYNC;
    }
    AaplReply {
        reply_bitmap: query.request_bitmap
            & (reply::SERVER_CAPS | reply::VOLUME_CAPS | reply::MODEL_INFO),
        server_caps: caps,
        volume_caps: volume,
        model: model.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(caps: u64) -> Vec<u8> {
        let mut v = 1u32.to_le_bytes().to_vec();
        v.extend_from_slice(&[0; 4]);
        v.extend_from_slice(&7u64.to_le_bytes());
        v.extend_from_slice(&caps.to_le_bytes());
        v
    }

    fn ctx(data: &[u8]) -> Vec<CreateContext<'_>> {
        vec![CreateContext {
            name: cc::name::AAPL,
            data,
        }]
    }

    #[test]
    fn first_query_is_answered_once() {
        let apple = AppleConn::default();
        let share = FruitShare {
            config: config::fruit::FruitConfig {
                copyfile: true,
                ..Default::default()
            },
            time_machine: true,
            ..Default::default()
        };
        let q = query(server_caps::READ_DIR_ATTR | server_caps::NFS_ACE);
        let got = answer(&apple, Some(&share), "MacSamba", &ctx(&q))
            .unwrap()
            .unwrap();
        assert_eq!(got.data.len(), 40 + 16);
        assert_eq!(got.data[16..24], 0xFu64.to_le_bytes());
        assert_eq!(got.data[24..32], volume_caps::FULL_SYNC.to_le_bytes());
        assert!(apple.negotiated() && apple.copyfile() && apple.read_dir_attr());
        assert_eq!(answer(&apple, Some(&share), "m", &ctx(&q)), Ok(None));
    }

    #[test]
    fn no_fruit_no_answer_and_malformed_is_refused() {
        let apple = AppleConn::default();
        assert_eq!(answer(&apple, None, "m", &ctx(&query(0))), Ok(None));
        assert!(!apple.negotiated());
        let share = FruitShare::default();
        assert_eq!(
            answer(&apple, Some(&share), "m", &ctx(&[1, 0, 0, 0])),
            Err(NtStatus::INVALID_PARAMETER)
        );
        let q = query(0);
        let got = answer(&apple, Some(&share), "m", &ctx(&q))
            .unwrap()
            .unwrap();
        // Only UNIX_BASED without client capabilities or copyfile.
        assert_eq!(got.data[16..24], server_caps::UNIX_BASED.to_le_bytes());
    }
}
