//! ClientProtocol's ACL calls (acl.proto): setAcl, modifyAclEntries,
//! removeAclEntries, removeDefaultAcl, removeAcl (WRITE) and getAclStatus (READ).
//! The logic is the namespace's (namespace/acl.rs); these convert the wire entries.

use hafs_ipc::{CallContext, RpcError};
use hafs_proto::hdfs::{self as pb, acl_entry_proto};

use super::ClientProtocolService;
use crate::namespace::{AclEntry, AclScope, AclType, Planned};
use crate::namesystem::ns_err;

/// An ACL spec from the wire. Hadoop's enums leave no value unmapped; a value outside
/// them (a hand-made request) is refused by name.
fn spec_from_wire(spec: &[pb::AclEntryProto]) -> Result<Vec<AclEntry>, RpcError> {
    spec.iter()
        .map(|e| {
            let scope = u32::try_from(e.scope).ok().and_then(AclScope::from_u32);
            let kind = u32::try_from(e.r#type).ok().and_then(AclType::from_u32);
            match (scope, kind, u8::try_from(e.permissions)) {
                (Some(scope), Some(kind), Ok(perm)) if perm <= 7 => {
                    Ok(AclEntry::new(scope, kind, e.name.as_deref(), perm))
                }
                _ => Err(RpcError::illegal_argument(format!(
                    "invalid ACL entry: scope {}, type {}, permissions {}",
                    e.scope, e.r#type, e.permissions
                ))),
            }
        })
        .collect()
}

fn entry_to_wire(e: &AclEntry) -> pb::AclEntryProto {
    use acl_entry_proto::{AclEntryScopeProto as S, AclEntryTypeProto as T};
    pb::AclEntryProto {
        r#type: match e.kind {
            AclType::User => T::User,
            AclType::Group => T::Group,
            AclType::Mask => T::Mask,
            AclType::Other => T::Other,
        } as i32,
        scope: match e.scope {
            AclScope::Access => S::Access,
            AclScope::Default => S::Default,
        } as i32,
        permissions: i32::from(e.perm),
        name: e.name.clone(),
    }
}

impl ClientProtocolService {
    pub(super) async fn modify_acl_entries(
        &self,
        ctx: &CallContext,
        r: pb::ModifyAclEntriesRequestProto,
    ) -> Result<pb::ModifyAclEntriesResponseProto, RpcError> {
        let caller = self.caller(ctx);
        let spec = spec_from_wire(&r.acl_spec)?;
        self.fsn
            .mutate(&format!("modify ACL entries of {}", r.src), None, |ns| {
                ns.plan_modify_acl_entries(&caller, &r.src, spec)
                    .map(Planned::Apply)
            })
            .await?;
        Ok(pb::ModifyAclEntriesResponseProto {})
    }

    pub(super) async fn remove_acl_entries(
        &self,
        ctx: &CallContext,
        r: pb::RemoveAclEntriesRequestProto,
    ) -> Result<pb::RemoveAclEntriesResponseProto, RpcError> {
        let caller = self.caller(ctx);
        let spec = spec_from_wire(&r.acl_spec)?;
        self.fsn
            .mutate(&format!("remove ACL entries of {}", r.src), None, |ns| {
                ns.plan_remove_acl_entries(&caller, &r.src, spec)
                    .map(Planned::Apply)
            })
            .await?;
        Ok(pb::RemoveAclEntriesResponseProto {})
    }

    pub(super) async fn remove_default_acl(
        &self,
        ctx: &CallContext,
        r: pb::RemoveDefaultAclRequestProto,
    ) -> Result<pb::RemoveDefaultAclResponseProto, RpcError> {
        let caller = self.caller(ctx);
        self.fsn
            .mutate(&format!("remove default ACL of {}", r.src), None, |ns| {
                ns.plan_remove_default_acl(&caller, &r.src)
                    .map(Planned::Apply)
            })
            .await?;
        Ok(pb::RemoveDefaultAclResponseProto {})
    }

    pub(super) async fn remove_acl(
        &self,
        ctx: &CallContext,
        r: pb::RemoveAclRequestProto,
    ) -> Result<pb::RemoveAclResponseProto, RpcError> {
        let caller = self.caller(ctx);
        self.fsn
            .mutate(&format!("remove ACL of {}", r.src), None, |ns| {
                ns.plan_remove_acl(&caller, &r.src).map(Planned::Apply)
            })
            .await?;
        Ok(pb::RemoveAclResponseProto {})
    }

    pub(super) async fn set_acl(
        &self,
        ctx: &CallContext,
        r: pb::SetAclRequestProto,
    ) -> Result<pb::SetAclResponseProto, RpcError> {
        let caller = self.caller(ctx);
        let spec = spec_from_wire(&r.acl_spec)?;
        self.fsn
            .mutate(&format!("set ACL of {}", r.src), None, |ns| {
                ns.plan_set_acl(&caller, &r.src, spec).map(Planned::Apply)
            })
            .await?;
        Ok(pb::SetAclResponseProto {})
    }

    pub(super) async fn get_acl_status(
        &self,
        ctx: &CallContext,
        r: pb::GetAclStatusRequestProto,
    ) -> Result<pb::GetAclStatusResponseProto, RpcError> {
        let st = self
            .fsn
            .read()
            .get_acl_status(&self.caller(ctx), &r.src)
            .map_err(ns_err)?;
        Ok(pb::GetAclStatusResponseProto {
            result: pb::AclStatusProto {
                owner: st.owner,
                group: st.group,
                sticky: st.sticky,
                entries: st.entries.iter().map(entry_to_wire).collect(),
                permission: Some(pb::FsPermissionProto {
                    perm: u32::from(st.permission),
                }),
            },
        })
    }
}
