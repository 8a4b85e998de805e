//! Opening and creating named streams and the explicit unnamed data stream (MS-FSA 2.1.5.1 for a name
//! with a stream part, MS-FSCC 2.1.5): the object is opened (or created, for a disposition that creates)
//! beneath the share root as any other, then its stream is looked up among its extended attributes
//! ([`crate::stream`]). A share without streams (`vfs objects` lacking `streams_xattr`) refuses stream
//! names with OBJECT_NAME_INVALID, as Samba does without the module.

use std::os::fd::AsFd;

use proto::NtStatus;

use super::{CreateAction, CreateRequest, Disposition, Kind};
use crate::file::{Access, OpenFile};
use crate::path::SmbPath;
use crate::share::Share;
use crate::stream::{self, ParsedName, StreamName, StreamPart};
use crate::VfsResult;

impl Share {
    /// Opens or creates what `name` names, as `req` says: the object itself, its unnamed data stream
    /// (`::$DATA`, which a directory lacks) or one of its named streams. No stream can be a directory.
    pub fn create_named(
        &self,
        name: &ParsedName,
        req: &CreateRequest,
    ) -> VfsResult<(OpenFile, CreateAction)> {
        if name.stream != StreamPart::None && req.kind == Kind::Directory {
            return Err(NtStatus::NOT_A_DIRECTORY);
        }
        match &name.stream {
            StreamPart::None => self.create(&name.path, req),
            StreamPart::DefaultData => self.create(
                &name.path,
                &CreateRequest {
                    kind: Kind::File,
                    ..req.clone()
                },
            ),
            StreamPart::Named(stream) => self.create_stream(&name.path, stream, req),
        }
    }

    /// Opens or creates the stream `name` of the object `p`; the object is created as a file first when
    /// it is missing and the disposition creates.
    fn create_stream(
        &self,
        p: &SmbPath,
        name: &StreamName,
        req: &CreateRequest,
    ) -> VfsResult<(OpenFile, CreateAction)> {
        if !self.options().streams {
            return Err(NtStatus::OBJECT_NAME_INVALID);
        }
        if req.write && self.options().read_only {
            return Err(NtStatus::ACCESS_DENIED);
        }
        let creates = req.disposition.creates();
        let base_req = CreateRequest {
            disposition: if creates {
                Disposition::OpenIf
            } else {
                Disposition::Open
            },
            kind: Kind::Any,
            read: true,
            write: false,
            ..req.clone()
        };
        let (base, _) = self.create(p, &base_req)?;
        if base.access() == Access::Path {
            return Err(NtStatus::ACCESS_DENIED);
        }
        if crate::fruit::FruitOptions::is_resource_file(self.options().fruit, name.as_str()) {
            return self.open_resource_file(p, base, req);
        }
        let fd = base.as_fd();
        let (stored, action) = match stream::find(fd, name, self.options().fruit)? {
            Some(_) if req.disposition == Disposition::Create => {
                return Err(NtStatus::OBJECT_NAME_COLLISION)
            }
            Some(stored) if req.disposition.truncates() => {
                self.check_writable()?;
                stream::write(fd, &stored, &[], false, self.options().fruit)?;
                (stored, req.disposition.existing_action())
            }
            Some(stored) => (stored, CreateAction::Opened),
            None if !creates => return Err(NtStatus::OBJECT_NAME_NOT_FOUND),
            None => {
                self.check_writable()?;
                stream::write(fd, name.as_str(), &[], true, self.options().fruit)?;
                (name.as_str().to_owned(), CreateAction::Created)
            }
        };
        let access = Access::for_request(req.read, req.write);
        Ok((base.into_stream(stored, access), action))
    }
}
