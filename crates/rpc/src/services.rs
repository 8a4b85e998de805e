//! The interfaces served on named pipes, their syntax identifiers (MS-SRVS 1.9, MS-WKST 1.9, MS-LSAT 1.9,
//! MS-SAMR 1.9, MS-RPCE 1.9 and 3.3.1.5.3), the fault and Win32 status codes the services return (MS-RPCE
//! 2.2.2.13 / MS-ERREF 2.2), and the two union-behind-a-pointer layouts of `*GetInfo` / `Query*Information`
//! results.

use crate::handles::HandleTable;
use crate::ndr::{Encoder, Field, NdrError};
use crate::pdu::{SyntaxId, Uuid};
use crate::{lsarpc, samr, srvsvc, wkssvc, Provider};

/// nca_s_op_rng_error: the operation number is not defined by the interface.
pub const NCA_S_OP_RNG_ERROR: u32 = 0x1c01_0002;
/// nca_s_unk_if: the presentation context is unknown.
pub const NCA_S_UNK_IF: u32 = 0x1c01_0003;
/// nca_s_proto_error: a PDU the protocol does not allow here (also unsupported data representations).
pub const NCA_S_PROTO_ERROR: u32 = 0x1c01_000b;
/// RPC_X_BAD_STUB_DATA, the status Windows uses for stubs that do not decode.
pub const NCA_S_FAULT_NDR: u32 = 0x0000_06f7;
/// nca_s_fault_context_mismatch: a context handle the server does not hold.
pub const NCA_S_FAULT_CONTEXT_MISMATCH: u32 = 0x1c00_001a;

/// A stub that did not decode faults with nca_s_fault_ndr.
pub fn ndr_fault(result: Result<Vec<u8>, NdrError>) -> Result<Vec<u8>, u32> {
    result.map_err(|NdrError| NCA_S_FAULT_NDR)
}
/// ERROR_ACCESS_DENIED (authentication verifiers are not supported).
pub const ACCESS_DENIED: u32 = 5;

/// ERROR_INVALID_LEVEL.
pub const WERR_INVALID_LEVEL: u32 = 124;
/// NERR_NetNameNotFound.
pub const WERR_NET_NAME_NOT_FOUND: u32 = 2310;

/// PLATFORM_ID_NT (MS-SRVS 2.2.2.6, MS-WKST 2.2.2.1).
pub const PLATFORM_ID_NT: u32 = 500;

/// NDR 2.0 (C706 appendix I, MS-RPCE 2.2.5).
pub const NDR20: SyntaxId = SyntaxId {
    uuid: Uuid {
        data1: 0x8a88_5d04,
        data2: 0x1ceb,
        data3: 0x11c9,
        data4: [0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60],
    },
    version: 2,
};

/// Whether a transfer syntax is the bind time feature negotiation marker 6cb71c2c-9812-4540-xxxx-xxxxxxxxxxxx
/// (MS-RPCE 3.3.1.5.3); its last eight bytes carry the client's feature bits.
pub fn is_bind_time_features(syntax: &SyntaxId) -> bool {
    let u = &syntax.uuid;
    (u.data1, u.data2, u.data3) == (0x6cb7_1c2c, 0x9812, 0x4540)
}

/// An RPC interface served on a named pipe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interface {
    Srvsvc,
    Wkssvc,
    Lsarpc,
    Samr,
}

/// Pipe names (case-insensitive) and their interfaces; "lsass" is the other name of the LSA pipe.
const PIPE_NAMES: [(&str, Interface); 5] = [
    ("srvsvc", Interface::Srvsvc),
    ("wkssvc", Interface::Wkssvc),
    ("lsarpc", Interface::Lsarpc),
    ("lsass", Interface::Lsarpc),
    ("samr", Interface::Samr),
];

/// The LSA and SAM interfaces share a UUID prefix: 12345778-1234-abcd-ef00-0123456789ab / ...ac.
fn lsa_family(last: u8, version: u32) -> SyntaxId {
    SyntaxId {
        uuid: Uuid {
            data1: 0x1234_5778,
            data2: 0x1234,
            data3: 0xabcd,
            data4: [0xef, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, last],
        },
        version,
    }
}

impl Interface {
    pub fn from_pipe_name(name: &str) -> Option<Self> {
        PIPE_NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, i)| *i)
    }

    /// The abstract syntax: srvsvc 4b324fc8-1670-01d3-1278-5a47bf6ee188 v3.0, wkssvc
    /// 6bffd098-a112-3610-9833-46c3f87e345a v1.0, lsarpc 12345778-1234-abcd-ef00-0123456789ab v0.0, samr
    /// 12345778-1234-abcd-ef00-0123456789ac v1.0.
    pub fn syntax(self) -> SyntaxId {
        match self {
            Interface::Srvsvc => SyntaxId {
                uuid: Uuid {
                    data1: 0x4b32_4fc8,
                    data2: 0x1670,
                    data3: 0x01d3,
                    data4: [0x12, 0x78, 0x5a, 0x47, 0xbf, 0x6e, 0xe1, 0x88],
                },
                version: 3,
            },
            Interface::Wkssvc => SyntaxId {
                uuid: Uuid {
                    data1: 0x6bff_d098,
                    data2: 0xa112,
                    data3: 0x3610,
                    data4: [0x98, 0x33, 0x46, 0xc3, 0xf8, 0x7e, 0x34, 0x5a],
                },
                version: 1,
            },
            Interface::Lsarpc => lsa_family(0xab, 0),
            Interface::Samr => lsa_family(0xac, 1),
        }
    }

    /// Whether a proposed abstract syntax names this interface: same UUID and major version, minor version not
    /// newer than ours (C706 12.6.3.1 compatibility rule).
    pub fn matches(self, proposed: &SyntaxId) -> bool {
        let ours = self.syntax();
        let (major, minor) = (ours.version & 0xffff, ours.version >> 16);
        proposed.uuid == ours.uuid
            && proposed.version & 0xffff == major
            && proposed.version >> 16 <= minor
    }

    /// The secondary address announced in bind_ack (Windows serves lsarpc and samr from the lsass endpoint).
    pub fn secondary_address(self) -> &'static str {
        match self {
            Interface::Srvsvc => "\\PIPE\\srvsvc",
            Interface::Wkssvc => "\\PIPE\\wkssvc",
            Interface::Lsarpc | Interface::Samr => "\\PIPE\\lsass",
        }
    }

    /// Runs one call with the pipe's context handles: the response stub, or the fault status.
    pub fn call(
        self,
        opnum: u16,
        stub: &[u8],
        provider: &dyn Provider,
        handles: &mut HandleTable,
    ) -> Result<Vec<u8>, u32> {
        let result = match self {
            Interface::Srvsvc => srvsvc::call(opnum, stub, provider).map(ndr_fault),
            Interface::Wkssvc => wkssvc::call(opnum, stub, provider).map(ndr_fault),
            Interface::Lsarpc => lsarpc::call(opnum, stub, provider, handles),
            Interface::Samr => samr::call(opnum, stub, provider, handles),
        };
        result.ok_or(NCA_S_OP_RNG_ERROR)?
    }
}

/// A `[switch_is(level)]` union of pointers to info structures followed by the Win32 status: the common shape of
/// NetrShareGetInfo, NetrServerGetInfo and NetrWkstaGetInfo responses. `record` is `None` for an unsupported
/// level (null pointer) and `status` is then the error.
pub fn encode_info_response(level: u32, record: Option<&[Field<'_>]>, status: u32) -> Vec<u8> {
    let mut e = Encoder::new();
    e.u32(level);
    match record {
        Some(fields) => {
            e.referent();
            e.inline(fields);
            e.deferred(fields);
        }
        None => e.null(),
    }
    e.u32(status);
    e.into_bytes()
}

/// A pointer to a union whose 16-bit discriminant is an enumeration (`[out, switch_is(Class)] X** Buffer`, the
/// shape of LsarQueryInformationPolicy, SamrQueryInformationDomain and SamrQueryInformationUser), then the
/// NTSTATUS. `record` is `None` (null pointer) when the call failed.
pub fn encode_union_response(class: u16, record: Option<&[Field<'_>]>, status: u32) -> Vec<u8> {
    let mut e = Encoder::new();
    match record {
        Some(fields) => {
            e.referent();
            e.u16(class);
            e.record(fields);
        }
        None => e.null(),
    }
    e.u32(status);
    e.into_bytes()
}
