//! RefreshUserMappingsProtocol (`org.apache.hadoop.security.RefreshUserMappingsProtocol`)
//! on the NameNode's RPC port: `dfsadmin -refreshUserToGroupsMappings` and
//! `-refreshSuperUserGroupsConfiguration`, so an operator changes proxy-user rules and
//! static group overrides without a restart.
//!
//! As Hadoop's `new Configuration()`, a refresh re-reads the site files the NameNode was
//! started from (values given with `-D` at start are not re-applied). Hadoop leaves
//! these calls to its service-level ACL (`security.refresh.user.mappings.protocol.acl`,
//! `*` by default); hafs has no per-protocol ACL file, so it asks for the superuser
//! instead: a refresh changes who may impersonate whom.

use std::path::PathBuf;
use std::sync::{Arc, LazyLock};

use hafs_conf::{keys, Configuration};
use hafs_ipc::auth::proxy_users::{ProxyUserRules, ProxyUsers};
use hafs_ipc::{CallContext, MethodTable, ProtocolService, RpcError};
use hafs_proto::common as pb;
use tracing::info;

use crate::namesystem::Namesystem;

pub const PROTOCOL: &str = "org.apache.hadoop.security.RefreshUserMappingsProtocol";

pub struct RefreshUserMappingsService {
    pub fsn: Arc<Namesystem>,
    pub proxy_users: Arc<ProxyUsers>,
    /// The site files the NameNode's configuration was read from, in order.
    pub conf_files: Vec<PathBuf>,
}

impl RefreshUserMappingsService {
    fn table() -> MethodTable<Self> {
        MethodTable::new(PROTOCOL)
            .method(
                "refreshUserToGroupsMappings",
                Self::refresh_user_to_groups_mappings,
            )
            .method(
                "refreshSuperUserGroupsConfiguration",
                Self::refresh_super_user_groups_configuration,
            )
    }

    /// The configuration as the site files say now.
    fn reread(&self) -> Result<Configuration, RpcError> {
        let mut conf = Configuration::new();
        for f in &self.conf_files {
            conf.add_resource(f)
                .map_err(|e| RpcError::io(format!("cannot re-read the configuration: {e}")))?;
        }
        Ok(conf)
    }

    fn check(&self, ctx: &CallContext, what: &str) -> Result<(), RpcError> {
        let caller = self.fsn.caller(&ctx.user);
        self.fsn.check_superuser(&caller, what)
    }

    async fn refresh_user_to_groups_mappings(
        &self,
        ctx: &CallContext,
        _r: pb::RefreshUserToGroupsMappingsRequestProto,
    ) -> Result<pb::RefreshUserToGroupsMappingsResponseProto, RpcError> {
        self.check(ctx, "refresh user to groups mappings")?;
        let conf = self.reread()?;
        let overrides = hafs_security::groups::parse_static_overrides(&conf.get_or(
            keys::HADOOP_USER_GROUP_STATIC_MAPPING_OVERRIDES,
            keys::HADOOP_USER_GROUP_STATIC_MAPPING_OVERRIDES_DEFAULT,
        ));
        self.fsn.group_mapping().refresh(overrides);
        info!(user = %ctx.user, "refreshed all user-to-groups mappings");
        Ok(pb::RefreshUserToGroupsMappingsResponseProto {})
    }

    async fn refresh_super_user_groups_configuration(
        &self,
        ctx: &CallContext,
        _r: pb::RefreshSuperUserGroupsConfigurationRequestProto,
    ) -> Result<pb::RefreshSuperUserGroupsConfigurationResponseProto, RpcError> {
        self.check(ctx, "refresh the super user groups configuration")?;
        let conf = self.reread()?;
        self.proxy_users.refresh(ProxyUserRules::from_conf(&conf));
        info!(user = %ctx.user, "refreshed the proxy-user (super user groups) configuration");
        Ok(pb::RefreshSuperUserGroupsConfigurationResponseProto {})
    }
}

impl ProtocolService for RefreshUserMappingsService {
    fn methods() -> &'static MethodTable<Self> {
        static METHODS: LazyLock<MethodTable<RefreshUserMappingsService>> =
            LazyLock::new(RefreshUserMappingsService::table);
        &METHODS
    }
}
