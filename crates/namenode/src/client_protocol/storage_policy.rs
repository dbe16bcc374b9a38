//! Storage policies: setStoragePolicy, unsetStoragePolicy, getStoragePolicy and
//! getStoragePolicies (the rules are in crate::namespace::storage_policy, the suite in
//! crate::blockmanagement::storage_policy; these adapt the wire messages).

use hafs_ipc::{CallContext, RpcError};
use hafs_proto::hdfs as pb;

use super::ClientProtocolService;
use crate::blockmanagement::storage_policy::POLICIES;
use crate::namespace::Planned;
use crate::namesystem::ns_err;

impl ClientProtocolService {
    pub(super) async fn set_storage_policy(
        &self,
        ctx: &CallContext,
        r: pb::SetStoragePolicyRequestProto,
    ) -> Result<pb::SetStoragePolicyResponseProto, RpcError> {
        let caller = self.caller(ctx);
        self.fsn
            .mutate(&format!("set storage policy on {}", r.src), None, |ns| {
                ns.plan_set_storage_policy(&caller, &r.src, Some(&r.policy_name))
                    .map(Planned::Apply)
            })
            .await?;
        self.fsn.refresh_storage_policies();
        Ok(pb::SetStoragePolicyResponseProto {})
    }

    pub(super) async fn unset_storage_policy(
        &self,
        ctx: &CallContext,
        r: pb::UnsetStoragePolicyRequestProto,
    ) -> Result<pb::UnsetStoragePolicyResponseProto, RpcError> {
        let caller = self.caller(ctx);
        self.fsn
            .mutate(&format!("unset storage policy on {}", r.src), None, |ns| {
                ns.plan_set_storage_policy(&caller, &r.src, None)
                    .map(Planned::Apply)
            })
            .await?;
        self.fsn.refresh_storage_policies();
        Ok(pb::UnsetStoragePolicyResponseProto {})
    }

    pub(super) async fn get_storage_policy(
        &self,
        ctx: &CallContext,
        r: pb::GetStoragePolicyRequestProto,
    ) -> Result<pb::GetStoragePolicyResponseProto, RpcError> {
        let policy = self
            .fsn
            .read()
            .get_storage_policy(&self.caller(ctx), &r.path)
            .map_err(ns_err)?;
        Ok(pb::GetStoragePolicyResponseProto {
            storage_policy: policy.to_proto(),
        })
    }

    /// The whole suite, by ascending id.
    pub(super) async fn get_storage_policies(
        &self,
        _ctx: &CallContext,
        _r: pb::GetStoragePoliciesRequestProto,
    ) -> Result<pb::GetStoragePoliciesResponseProto, RpcError> {
        Ok(pb::GetStoragePoliciesResponseProto {
            policies: POLICIES.iter().map(|p| p.to_proto()).collect(),
        })
    }
}
