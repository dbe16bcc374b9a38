//! The seam between [`DfsClient`](crate::DfsClient) and the RPC layer.
//!
//! In production the transport is `hafs_ipc::FailoverProxy`; tests plug in a fake
//! NameNode that decodes requests and answers canned responses.

use std::future::Future;

use hafs_ipc::FailoverProxy;
use prost::Message;

use crate::ClientError;

/// Sends one ClientProtocol call and decodes its response.
pub trait NamenodeTransport: Send + Sync + 'static {
    fn call<Req, Resp>(
        &self,
        method: &'static str,
        req: &Req,
    ) -> impl Future<Output = Result<Resp, ClientError>> + Send
    where
        Req: Message + Sync,
        Resp: Message + Default + Send;
}

impl NamenodeTransport for FailoverProxy {
    async fn call<Req, Resp>(&self, method: &'static str, req: &Req) -> Result<Resp, ClientError>
    where
        Req: Message + Sync,
        Resp: Message + Default + Send,
    {
        FailoverProxy::call::<Req, Resp>(self, method, req)
            .await
            .map_err(ClientError::from)
    }
}
