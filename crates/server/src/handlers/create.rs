//! CREATE (MS-SMB2 3.3.5.9, MS-FSA 2.1.5.1): parameter validation, access and share-mode checks, the
//! create dispositions through `vfs`, NT ACL checks and inheritance (`crate::nt_acl::create`, with the
//! SecD context), delete-on-close, and the MxAc, QFid and ExtA create contexts.

use super::{bad_request, HandlerResult};
use crate::blocking::run_as;
use crate::breaks::BreakTarget;
use crate::dispatch::Ctx;
use crate::durable::PendingCreates;
use crate::nt_acl::create::{AclCreate, Asked};
use crate::opening::{Opening, Step};
use crate::oplock::{NewOpen, OplockLevel};
use crate::pending::Parked;
use crate::reconnect::reconnect;
use crate::session::Tree;
use bytes::BytesMut;
use proto::create_context::{self as cc, LeaseContext, OwnedCreateContext};
use proto::durable::{durable_context, DurableContext};
use proto::messages::create::access::*;
use proto::messages::create::{
    create_action, create_options as co, oplock_level, CreateRequest, CreateResponse,
};
use proto::messages::negotiate::{CAP_DIRECTORY_LEASING, CAP_LEASING, SMB3_0};
use proto::messages::Body;
use proto::reader::utf16le_to_string;
use proto::{FileId, HeaderFlags, NtStatus};
use std::sync::Arc;
use vfs::{CreateAction, Disposition, Kind};

/// Valid FileAttributes bits a client may set (MS-FSCC 2.6).
const SETTABLE_ATTRIBUTES: u32 = 0x0000_7FB7;
/// Access bits that modify a file or directory.
const WRITE_ACCESS: u32 = FILE_WRITE_DATA
    | FILE_APPEND_DATA
    | FILE_WRITE_EA
    | FILE_WRITE_ATTRIBUTES
    | DELETE
    | WRITE_DAC
    | WRITE_OWNER
    | FILE_DELETE_CHILD;
const FILE_ATTRIBUTE_READONLY: u32 = 0x1;
const FILE_ATTRIBUTE_NORMAL: u32 = 0x80;
/// The buffer size a pipe reports as its allocation size.
pub const PIPE_ALLOCATION: u64 = 4096;
/// FILE_CREATE_TREE_CONNECTION (MS-FSCC 2.4 create options): reserved for the redirector.
const CREATE_TREE_CONNECTION: u32 = 0x0000_0080;

/// MS-SMB2 3.3.5.9 parameter checks, in the order the specification lists them.
fn validate(req: &CreateRequest<'_>) -> Result<(), NtStatus> {
    if req.impersonation_level > 3 {
        return Err(NtStatus::BAD_IMPERSONATION_LEVEL);
    }
    if req.create_options & (co::DIRECTORY_FILE | co::NON_DIRECTORY_FILE)
        == (co::DIRECTORY_FILE | co::NON_DIRECTORY_FILE)
    {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if req.create_options & 0xFF00_0000 != 0 || req.create_disposition > 5 || req.share_access > 7 {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    // Opening by file id, FILE_RESERVE_OPFILTER and tree-connection opens are not implemented (3.3.5.9).
    if req.create_options & (co::OPEN_BY_FILE_ID | co::RESERVE_OPFILTER | CREATE_TREE_CONNECTION)
        != 0
    {
        return Err(NtStatus::NOT_SUPPORTED);
    }
    if req.desired_access & 0x0CE0_FE00 != 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    // SACL access needs SeSecurityPrivilege, which no SMB user of rsmbd holds.
    if req.desired_access & ACCESS_SYSTEM_SECURITY != 0 {
        return Err(NtStatus::PRIVILEGE_NOT_HELD);
    }
    if req.file_attributes & !SETTABLE_ATTRIBUTES != 0 {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if req.create_options & co::DIRECTORY_FILE != 0 && !matches!(req.create_disposition, 1..=3) {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    Ok(())
}

/// The access the open is granted: generic rights mapped, MAXIMUM_ALLOWED expanded to what the share
/// allows, and nothing beyond the share's maximal access.
fn granted_access(desired: u32, share_max: u32) -> Result<u32, NtStatus> {
    let mut access = map_generic(desired);
    if access & MAXIMUM_ALLOWED != 0 {
        access = (access & !MAXIMUM_ALLOWED) | share_max;
    }
    if access == 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    if access & !share_max != 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    Ok(access)
}

/// How the vfs opens the file: overwriting dispositions are done as open-then-truncate so the share
/// mode check happens before any data is destroyed.
fn vfs_disposition(d: u32) -> Disposition {
    match d {
        0 | 5 => Disposition::OpenIf,
        1 | 4 => Disposition::Open,
        2 => Disposition::Create,
        _ => Disposition::OpenIf,
    }
}

fn kind(options: u32) -> Kind {
    if options & co::DIRECTORY_FILE != 0 {
        Kind::Directory
    } else if options & co::NON_DIRECTORY_FILE != 0 {
        Kind::File
    } else {
        Kind::Any
    }
}

/// `max open files`: a connection holding that many opens gets STATUS_TOO_MANY_OPENED_FILES; so does
/// anyone once the server holds `server max open files` (disconnected durable opens included).
fn check_open_limit(ctx: &Ctx<'_>) -> Result<(), NtStatus> {
    let server = &ctx.conn.server;
    let max = server.settings.limits.max_open_files;
    let held = (server.opens.count(ctx.conn.id)).saturating_add(ctx.conn.pipes.len());
    if held >= usize::try_from(max).unwrap_or(usize::MAX) {
        tracing::info!(peer = %ctx.conn.peer, max, "create refused: max open files");
        return Err(NtStatus::TOO_MANY_OPENED_FILES);
    }
    if server.opens.total().saturating_add(server.durable.len()) >= server.budgets.max_open_files {
        tracing::warn!(peer = %ctx.conn.peer, "create refused: server max open files");
        return Err(NtStatus::TOO_MANY_OPENED_FILES);
    }
    Ok(())
}

pub async fn handle(
    ctx: &mut Ctx<'_>,
    req: CreateRequest<'_>,
    out: &mut BytesMut,
) -> HandlerResult {
    let tree = ctx.tree()?.clone();
    check_open_limit(ctx)?;
    if tree.share.vfs.is_none() {
        validate(&req).inspect_err(|e| tracing::debug!(?req, "create: {e}"))?;
        return create_pipe(ctx, &req, &tree, out);
    }
    let contexts = cc::parse_chain(req.contexts).map_err(bad_request)?;
    check_contexts(&contexts)?;
    let aapl = crate::fruit::aapl::answer(
        &ctx.conn.apple,
        tree.share.fruit.as_ref(),
        &ctx.conn.server.settings.model,
        &contexts,
    )?;
    let name = utf16le_to_string(req.name).map_err(|_| NtStatus::OBJECT_NAME_INVALID)?;
    if name.starts_with('\\') {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    let quota = crate::quota_index::is_quota_index(&name);
    // The quota index is shown as the share's root directory (see `crate::quota_index`).
    let named = vfs::parse_name(if quota { "" } else { &name })
        .inspect_err(|e| tracing::debug!(name, "create: invalid name: {e}"))?;
    let path = named.path.clone();
    // Once per CREATE: `negotiated()` copies the connection's negotiated state.
    let negotiated = ctx.conn.negotiated().ok_or(NtStatus::INVALID_PARAMETER)?;
    let durable = durable_context(&contexts, negotiated.dialect >= SMB3_0)
        .map_err(|_| NtStatus::INVALID_PARAMETER)?;
    if let Some(asked @ (DurableContext::Reconnect { .. } | DurableContext::ReconnectV2 { .. })) =
        durable
    {
        let answered = answer_contexts(&contexts, tree.maximal_access, None);
        let (file_id, resp) = reconnect(ctx, &tree, &path, asked, &contexts, answered).await?;
        return respond(ctx, out, file_id, Ok(resp));
    }
    // A reconnect ignores the other fields (MS-SMB2 3.3.5.9.7); any other CREATE is checked.
    validate(&req).inspect_err(|e| tracing::debug!(?req, "create: {e}"))?;
    if let Some(DurableContext::RequestV2 { create_guid, .. }) = durable {
        let replay = ctx.hdr.flags.0 & HeaderFlags::REPLAY_OPERATION != 0;
        let server = &ctx.conn.server;
        if replay
            && server
                .pending_creates
                .contains(negotiated.client_guid, create_guid)
        {
            return Err(NtStatus::FILE_NOT_AVAILABLE);
        }
        let replayed = crate::replay::replayed(ctx, create_guid);
        if !replay && replayed.is_some() {
            // The CreateGuid of an open still replay-eligible, without the replay flag (3.3.5.9.10).
            return Err(NtStatus::DUPLICATE_OBJECTID);
        }
        if let Some(open) = replayed {
            let lease = lease_request(&negotiated, &req, &contexts)?;
            let answered = answer_contexts(&contexts, tree.maximal_access, None);
            let (file_id, resp) =
                crate::replay::respond(&open, req.requested_oplock_level, lease, answered).await?;
            return respond(ctx, out, file_id, Ok(resp));
        }
    }
    tree.share.names.check_path(&path)?;
    let mut share_access = granted_access(req.desired_access, tree.maximal_access)?;
    if quota {
        crate::quota_index::check_disposition(req.create_disposition)?;
        share_access = crate::quota_index::access(req.desired_access, share_access)?;
    }
    let delete_on_close = req.create_options & co::DELETE_ON_CLOSE != 0;
    let creating = matches!(req.create_disposition, 0 | 2 | 3 | 4 | 5);
    if !tree.writable
        && (share_access & WRITE_ACCESS != 0 || (creating && req.create_disposition != 3))
    {
        return Err(NtStatus::ACCESS_DENIED);
    }
    // MS-FSA 2.1.5.1.1: a read-only file cannot be delete-on-close.
    if delete_on_close && req.file_attributes & FILE_ATTRIBUTE_READONLY != 0 {
        return Err(NtStatus::CANNOT_DELETE);
    }
    let explicit_sd = cc::find(&contexts, cc::name::SD_BUFFER)
        .map(|c| crate::nt_acl::decode(c.data))
        .transpose()?;
    let mut acl = AclCreate::new(&tree, &path, &ctx.conn.server.settings.domain_sid);
    acl.check_add(
        matches!(req.create_disposition, 0 | 2 | 3 | 5),
        req.create_options & co::DIRECTORY_FILE != 0,
    )
    .await?;
    let vreq = vfs::CreateRequest {
        disposition: vfs_disposition(req.create_disposition),
        kind: kind(req.create_options),
        read: share_access & (FILE_READ_DATA | FILE_EXECUTE) != 0,
        write: share_access & (FILE_WRITE_DATA | FILE_APPEND_DATA) != 0
            || matches!(req.create_disposition, 0 | 4 | 5),
        attributes: req.file_attributes & vfs::SETTABLE_ATTRIBUTES,
        // What Samba asks for before `create mask`: read-only files lose their write bits.
        mode: if req.file_attributes & FILE_ATTRIBUTE_READONLY != 0 {
            0o444
        } else {
            0o666
        },
    };
    // An SMB 3.x matter only (MS-SMB2 3.3.5.9.13).
    let app_instance = match negotiated.dialect >= SMB3_0 {
        true => crate::app_instance::requested(
            &contexts,
            negotiated.client_guid,
            negotiated.dialect >= proto::messages::negotiate::SMB3_1_1,
        )?,
        false => None,
    };
    if let Some(asked) = &app_instance {
        crate::app_instance::close_earlier(&ctx.conn.server, &tree, &path, asked).await?;
    }
    let ea_data = cc::find(&contexts, cc::name::EA_BUFFER).map(|c| c.data);
    let eas = crate::eas::create_context(ea_data, tree.vfs()?.options().ea_support)?;
    let (file, action, mut stat) = open_on_disk(&tree, &named, vreq.clone()).await?;
    existing_file_checks(&req, action, &stat, delete_on_close)?;
    let file = Arc::new(file);
    let overwrites = matches!(req.create_disposition, 0 | 4 | 5) && action == CreateAction::Opened;
    let granted = acl
        .after_open(
            &file,
            &stat,
            action,
            Asked {
                desired: req.desired_access,
                share_granted: share_access,
                share_max: tree.maximal_access,
                explicit: explicit_sd,
                overwrites,
                stream: matches!(named.stream, vfs::StreamPart::Named(_)),
            },
        )
        .await?;
    let access = if quota {
        crate::quota_index::disguise(&mut stat);
        granted.access & share_access
    } else {
        granted.access
    };
    if delete_on_close && access & DELETE == 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let session = ctx.session()?;
    let encrypt = tree.encrypt || session.lock().encrypt_required;
    let id = ctx.conn.server.next_id();
    let requested = if stat.is_dir {
        OplockLevel::None
    } else {
        OplockLevel::from_wire(req.requested_oplock_level).unwrap_or_default()
    };
    let shown = crate::fruit::file_id_view(&ctx.conn.apple, tree.share.fruit.as_ref(), &stat);
    let mut answered = answer_contexts(&contexts, granted.maximal, Some(&shown));
    answered.extend(aapl);
    let lease = lease_request(&negotiated, &req, &contexts)?;
    let mut opening = Opening {
        conn: Arc::clone(ctx.conn),
        session_id: session.id,
        path,
        file,
        action,
        stat,
        id,
        access,
        share_access: req.share_access,
        disposition: req.create_disposition,
        delete_on_close,
        allocation: requested_allocation(&contexts),
        eas,
        lease,
        client_guid: negotiated.client_guid,
        dir_leasing: negotiated.server_capabilities & CAP_DIRECTORY_LEASING != 0,
        oplock: NewOpen {
            delete_on_close,
            ..NewOpen::new(
                requested,
                access,
                matches!(req.create_disposition, 0 | 4 | 5) && action == CreateAction::Opened,
            )
        },
        target: BreakTarget {
            channel: Arc::downgrade(&ctx.conn.channel),
            file_id: FileId {
                persistent: id,
                volatile: id,
            },
            encrypt_for: encrypt.then(|| Arc::downgrade(session)),
        },
        contexts: answered,
        durable,
        app_instance,
        tree,
    };
    if opening.clear_the_way().await {
        // A disconnected delete-on-close open in the way took the file with it: open it afresh.
        let (file, action, stat) = open_on_disk(&opening.tree, &named, vreq).await?;
        opening.reopened(file, action, stat);
    }
    match opening.attach(false).await? {
        Step::Attached(node, grant) => {
            let file_id = opening.file_id();
            let resp = opening.finish(node, grant).await;
            respond(ctx, out, file_id, resp)
        }
        Step::Wait(changed, deadline) if ctx.hdr.next_command == 0 => {
            let file = opening.path.to_string();
            let pending = match opening.durable {
                Some(DurableContext::RequestV2 { create_guid, .. }) => Some(PendingCreates::enter(
                    &opening.conn.server,
                    opening.client_guid,
                    create_guid,
                )),
                _ => None,
            };
            ctx.park(Parked::new(None, file, move |cancelled| async move {
                let done = opening.wait(changed, deadline, cancelled).await;
                drop(pending);
                done
            }))
        }
        Step::Wait(changed, deadline) => {
            // Inside a compound only the last request may go async (MS-SMB2 3.3.4.2): this one
            // waits in place, letting later frames through so an acknowledgment can arrive.
            ctx.let_later_frames_pass();
            let file_id = opening.file_id();
            let resp = opening.attach_after(changed, deadline).await;
            respond(ctx, out, file_id, resp)
        }
    }
}

/// MS-FSA 2.1.5.1.2.1 on an existing file: a read-only file is neither overwritten nor superseded
/// (ACCESS_DENIED) nor deleted on close (CANNOT_DELETE); overwriting a hidden or system file must
/// keep that attribute (ACCESS_DENIED otherwise). Overwriting dispositions open the file first and
/// truncate it once the open is attached, so `action` is still "opened" here.
fn existing_file_checks(
    req: &CreateRequest<'_>,
    action: CreateAction,
    stat: &vfs::FileStat,
    delete_on_close: bool,
) -> Result<(), NtStatus> {
    if action != CreateAction::Opened || stat.is_dir {
        return Ok(());
    }
    let attributes = stat.file_attributes("");
    let read_only = attributes & FILE_ATTRIBUTE_READONLY != 0;
    if read_only && matches!(req.create_disposition, 0 | 4 | 5) {
        return Err(NtStatus::ACCESS_DENIED);
    }
    if read_only && delete_on_close {
        return Err(NtStatus::CANNOT_DELETE);
    }
    let kept = vfs::FILE_ATTRIBUTE_HIDDEN | vfs::FILE_ATTRIBUTE_SYSTEM;
    if matches!(req.create_disposition, 4 | 5) && attributes & kept & !req.file_attributes != 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    Ok(())
}

/// Open or create the file or stream as the tree's user; returns it with what was done and its
/// attributes.
async fn open_on_disk(
    tree: &Arc<Tree>,
    name: &vfs::ParsedName,
    vreq: vfs::CreateRequest,
) -> Result<(vfs::OpenFile, CreateAction, vfs::FileStat), NtStatus> {
    let (tree, name) = (Arc::clone(tree), name.clone());
    let unix = Arc::clone(&tree.unix);
    run_as(&unix, move || {
        let (file, action) = tree.vfs()?.create_named(&name, &vreq)?;
        let stat = file.stat()?;
        Ok((file, action, stat))
    })
    .await
}

/// The response of a CREATE finished in place; a related request after it uses its FileId.
fn respond(
    ctx: &mut Ctx<'_>,
    out: &mut BytesMut,
    file_id: FileId,
    resp: Result<CreateResponse, NtStatus>,
) -> HandlerResult {
    let resp = resp?;
    ctx.chain.file_id = Some(file_id);
    resp.encode(out, ctx.resp_start);
    Ok(NtStatus::SUCCESS)
}

/// CREATE on IPC$ opens a named pipe (MS-SMB2 3.3.5.9: the pipe is the file; unknown names are
/// OBJECT_NAME_NOT_FOUND).
fn create_pipe(
    ctx: &mut Ctx<'_>,
    req: &CreateRequest<'_>,
    tree: &Arc<crate::session::Tree>,
    out: &mut BytesMut,
) -> HandlerResult {
    let name = utf16le_to_string(req.name).map_err(|_| NtStatus::OBJECT_NAME_INVALID)?;
    let auth = ctx.auth()?;
    let session = ctx.session()?;
    let can_encrypt = session.lock().encryption.is_some();
    let p = crate::pipes::open(ctx.conn, tree, session.id, &auth, can_encrypt, &name)?;
    ctx.chain.file_id = Some(p.file_id);
    CreateResponse {
        oplock_level: 0,
        flags: 0,
        create_action: create_action::OPENED,
        creation_time: 0,
        last_access_time: 0,
        last_write_time: 0,
        change_time: 0,
        allocation_size: PIPE_ALLOCATION,
        end_of_file: 0,
        file_attributes: FILE_ATTRIBUTE_NORMAL,
        file_id: p.file_id,
        contexts: Vec::new(),
    }
    .encode(out, ctx.resp_start);
    Ok(NtStatus::SUCCESS)
}

/// The lease a CREATE asks for (MS-SMB2 3.3.5.9.8, 3.3.5.9.11): only with RequestedOplockLevel LEASE,
/// on a connection that negotiated leasing. (A directory gets none, but its key is still checked.)
fn lease_request(
    n: &crate::conn::Negotiated,
    req: &CreateRequest<'_>,
    contexts: &[cc::CreateContext<'_>],
) -> Result<Option<LeaseContext>, NtStatus> {
    if req.requested_oplock_level != oplock_level::LEASE || n.server_capabilities & CAP_LEASING == 0
    {
        return Ok(None);
    }
    cc::find(contexts, cc::name::REQUEST_LEASE)
        .map(|c| LeaseContext::decode(c.data, n.dialect >= SMB3_0).map_err(bad_request))
        .transpose()
}

/// MS-SMB2 3.3.5.9: context names are at least 4 bytes; a previous-version (TWrp) open finds nothing
/// because rsmbd exposes no snapshots yet.
fn check_contexts(contexts: &[cc::CreateContext<'_>]) -> Result<(), NtStatus> {
    if contexts.iter().any(|c| c.name.len() < 4) {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if cc::find(contexts, cc::name::TIMEWARP_TOKEN).is_some() {
        return Err(NtStatus::OBJECT_NAME_NOT_FOUND);
    }
    Ok(())
}

/// The AlSi context (MS-SMB2 2.2.13.2.6): the allocation size for a created or overwritten file.
fn requested_allocation(contexts: &[cc::CreateContext<'_>]) -> Result<Option<u64>, NtStatus> {
    match cc::find(contexts, cc::name::ALLOCATION_SIZE) {
        None => Ok(None),
        Some(c) => proto::reader::Reader::new(c.data)
            .u64()
            .map(Some)
            .map_err(|_| NtStatus::INVALID_PARAMETER),
    }
}

/// Responses to the create contexts rsmbd acts on now: MxAc (MS-SMB2 2.2.14.2.5) and QFid (2.2.14.2.9,
/// when the file's `stat` is at hand).
fn answer_contexts(
    contexts: &[cc::CreateContext<'_>],
    maximal_access: u32,
    stat: Option<&vfs::FileStat>,
) -> Vec<OwnedCreateContext> {
    let mut out = Vec::new();
    if cc::find(contexts, cc::name::QUERY_MAXIMAL_ACCESS).is_some() {
        let data = cc::maximal_access_response(0, maximal_access);
        out.push(OwnedCreateContext::new(
            cc::name::QUERY_MAXIMAL_ACCESS,
            &data,
        ));
    }
    if let (Some(stat), Some(_)) = (stat, cc::find(contexts, cc::name::QUERY_ON_DISK_ID)) {
        let data = cc::query_on_disk_id_response(stat.ino, stat.dev);
        out.push(OwnedCreateContext::new(cc::name::QUERY_ON_DISK_ID, &data));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_is_limited_by_share() {
        assert_eq!(
            granted_access(GENERIC_READ, 0x001200A9).unwrap(),
            FILE_GENERIC_READ
        );
        assert_eq!(
            granted_access(GENERIC_WRITE, 0x001200A9),
            Err(NtStatus::ACCESS_DENIED)
        );
        assert_eq!(
            granted_access(MAXIMUM_ALLOWED, 0x001F01FF).unwrap(),
            0x001F01FF
        );
        assert_eq!(granted_access(0, 0x001F01FF), Err(NtStatus::ACCESS_DENIED));
    }

    #[test]
    fn read_only_hidden_and_system_files() {
        let stat = |mode, attributes| vfs::FileStat {
            mode,
            dos: Some(vfs::DosInfo::new(attributes, None)),
            ..Default::default()
        };
        let req = |disposition, file_attributes| CreateRequest {
            create_disposition: disposition,
            file_attributes,
            ..Default::default()
        };
        let opened = CreateAction::Opened;
        let read_only = stat(0o444, 0);
        assert_eq!(
            existing_file_checks(&req(5, 0), opened, &read_only, false),
            Err(NtStatus::ACCESS_DENIED)
        );
        assert_eq!(
            existing_file_checks(&req(1, 0), opened, &read_only, true),
            Err(NtStatus::CANNOT_DELETE)
        );
        assert_eq!(
            existing_file_checks(&req(1, 0), opened, &read_only, false),
            Ok(())
        );
        let hidden = stat(0o644, vfs::FILE_ATTRIBUTE_HIDDEN);
        assert_eq!(
            existing_file_checks(&req(5, 0), opened, &hidden, false),
            Err(NtStatus::ACCESS_DENIED)
        );
        let keeps = req(5, vfs::FILE_ATTRIBUTE_HIDDEN);
        assert_eq!(existing_file_checks(&keeps, opened, &hidden, false), Ok(()));
        assert_eq!(
            existing_file_checks(&req(5, 0), CreateAction::Created, &hidden, false),
            Ok(())
        );
    }

    #[test]
    fn directory_with_non_directory_is_invalid() {
        let req = CreateRequest {
            create_options: co::DIRECTORY_FILE | co::NON_DIRECTORY_FILE,
            desired_access: 1,
            create_disposition: 1,
            ..Default::default()
        };
        assert_eq!(validate(&req), Err(NtStatus::INVALID_PARAMETER));
    }
}
