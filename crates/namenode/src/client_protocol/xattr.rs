//! Extended attributes: setXAttr, getXAttrs, listXAttrs, removeXAttr (the rules are
//! in crate::namespace::xattr; these adapt the wire messages).

use hafs_ipc::{CallContext, RpcError};
use hafs_proto::hdfs::{self as pb, x_attr_proto::XAttrNamespaceProto};

use super::ClientProtocolService;
use crate::namespace::{Caller, Planned, XAttr, XAttrNamespace, XAttrSetFlags};
use crate::namesystem::ns_err;

/// The attribute a request names; a request without one is refused as Hadoop's
/// server-side translator would fail on it (an IllegalArgumentException).
fn xattr_from_wire(x: Option<&pb::XAttrProto>) -> Result<XAttr, RpcError> {
    let x = x.ok_or_else(|| RpcError::illegal_argument("the request names no XAttr"))?;
    Ok(from_wire(x))
}

fn from_wire(x: &pb::XAttrProto) -> XAttr {
    // prost keeps an enum value it does not know as its number; the namespace enum
    // has only these five, and a required enum with another number fails decoding.
    let ns = XAttrNamespace::from_wire(i64::from(x.namespace)).unwrap_or(XAttrNamespace::User);
    XAttr::new(ns, &x.name, x.value.as_deref())
}

fn to_wire(x: &XAttr) -> pb::XAttrProto {
    let ns = match x.namespace {
        XAttrNamespace::User => XAttrNamespaceProto::User,
        XAttrNamespace::Trusted => XAttrNamespaceProto::Trusted,
        XAttrNamespace::Security => XAttrNamespaceProto::Security,
        XAttrNamespace::System => XAttrNamespaceProto::System,
        XAttrNamespace::Raw => XAttrNamespaceProto::Raw,
    };
    pb::XAttrProto {
        namespace: ns as i32,
        name: x.name.to_string(),
        value: x.value.as_ref().map(|v| bytes::Bytes::copy_from_slice(v)),
    }
}

impl ClientProtocolService {
    pub(super) async fn set_xattr(
        &self,
        ctx: &CallContext,
        r: pb::SetXAttrRequestProto,
    ) -> Result<pb::SetXAttrResponseProto, RpcError> {
        let caller = self.caller(ctx);
        let x = xattr_from_wire(r.x_attr.as_ref())?;
        let flags = XAttrSetFlags::from_wire(r.flag.unwrap_or(0));
        let retry = self.retry_key(ctx);
        self.fsn
            .mutate(&format!("set XAttr on {}", r.src), retry.as_ref(), |ns| {
                ns.plan_set_xattr(&caller, &r.src, x, flags)
                    .map(Planned::Apply)
            })
            .await?;
        Ok(pb::SetXAttrResponseProto {})
    }

    /// The retry of a setXAttr that succeeded: nothing to rebuild (an empty answer).
    pub(super) fn set_xattr_again(
        &self,
        _ctx: &CallContext,
        _r: &pb::SetXAttrRequestProto,
    ) -> Result<pb::SetXAttrResponseProto, RpcError> {
        Ok(pb::SetXAttrResponseProto {})
    }

    pub(super) async fn get_xattrs(
        &self,
        ctx: &CallContext,
        r: pb::GetXAttrsRequestProto,
    ) -> Result<pb::GetXAttrsResponseProto, RpcError> {
        let names: Vec<XAttr> = r.x_attrs.iter().map(from_wire).collect();
        let found = self
            .fsn
            .read()
            .get_xattrs(&self.caller(ctx), &r.src, &names)
            .map_err(ns_err)?;
        Ok(pb::GetXAttrsResponseProto {
            x_attrs: found.iter().map(to_wire).collect(),
        })
    }

    pub(super) async fn list_xattrs(
        &self,
        ctx: &CallContext,
        r: pb::ListXAttrsRequestProto,
    ) -> Result<pb::ListXAttrsResponseProto, RpcError> {
        let found = self
            .fsn
            .read()
            .list_xattrs(&self.caller(ctx), &r.src)
            .map_err(ns_err)?;
        Ok(pb::ListXAttrsResponseProto {
            x_attrs: found.iter().map(to_wire).collect(),
        })
    }

    /// Hadoop's checkUnreadableBySuperuser, before a read of a file's blocks: a file
    /// marked `security.hdfs.unreadable.by.superuser` keeps its data from the
    /// superuser (permissions on).
    pub(super) fn check_unreadable_by_superuser(
        &self,
        caller: &Caller,
        src: &str,
    ) -> Result<(), RpcError> {
        let ns = self.fsn.read();
        if !caller.is_superuser || !ns.config().permissions_enabled {
            return Ok(());
        }
        let Ok(Some(st)) = ns.get_file_info(caller, src) else {
            return Ok(());
        };
        if ns.unreadable_by_superuser(st.inode_id) {
            return Err(RpcError::access_control(format!(
                "Access is denied for {} since the superuser is not allowed to perform this \
                 operation.",
                caller.user
            )));
        }
        Ok(())
    }

    pub(super) async fn remove_xattr(
        &self,
        ctx: &CallContext,
        r: pb::RemoveXAttrRequestProto,
    ) -> Result<pb::RemoveXAttrResponseProto, RpcError> {
        let caller = self.caller(ctx);
        let x = xattr_from_wire(r.x_attr.as_ref())?;
        let retry = self.retry_key(ctx);
        self.fsn
            .mutate(
                &format!("remove XAttr on {}", r.src),
                retry.as_ref(),
                |ns| ns.plan_remove_xattr(&caller, &r.src, x).map(Planned::Apply),
            )
            .await?;
        Ok(pb::RemoveXAttrResponseProto {})
    }

    pub(super) fn remove_xattr_again(
        &self,
        _ctx: &CallContext,
        _r: &pb::RemoveXAttrRequestProto,
    ) -> Result<pb::RemoveXAttrResponseProto, RpcError> {
        Ok(pb::RemoveXAttrResponseProto {})
    }
}
