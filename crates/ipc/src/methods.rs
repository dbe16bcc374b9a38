//! A protocol as a table of methods.
//!
//! Each row of a [`MethodTable`] names one method, carries what the server checks
//! before the method runs (its [`OperationCategory`] for the HA Standby check; whether
//! it is at-most-once and goes through the retry cache) as data, and points at a typed
//! handler:
//!
//! ```text
//! async fn mkdirs(&self, ctx: &CallContext, r: MkdirsRequestProto)
//!     -> Result<MkdirsResponseProto, RpcError>
//! ```
//!
//! This is what Hadoop splits between the generated `BlockingService` (a switch over
//! the method descriptors, decoding and encoding the messages) and the checks that
//! `NameNodeRpcServer` repeats at the top of every method (`checkOperation`,
//! `RetryCache.waitForCompletion`). Keeping the checks on the rows means they cannot
//! be forgotten in one handler, and service-level authorization can later be attached
//! to the same rows.
//!
//! # One call
//!
//! 1. Look the method up; unknown: `RpcNoSuchMethodException` worded as Hadoop's
//!    ProtobufRpcEngine words it ([`RpcError::no_such_method`]).
//! 2. Decode the request message (bad bytes: an `IOException` naming the message).
//!    Hadoop's RPC engine decodes before the method runs too.
//! 3. [`ProtocolService::align`], then [`ProtocolService::admit`] with the row's
//!    [`MethodInfo`]: an Observer NameNode waits here until it has applied the state
//!    the client has seen (coordinated reads); the NameNode refuses what its HA state
//!    does not serve.
//! 4. At-most-once rows ask [`ProtocolService::retry_lookup`]: a retry of a call that
//!    already succeeded gets the first answer (or one rebuilt by the row's `replay`)
//!    instead of running again.
//! 5. The handler runs; its response is encoded.
//!
//! # Adding a method
//!
//! Write the handler as a plain `async fn` beside the service's other handlers and add
//! one row to the service's table (`ProtocolService::methods`).

use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use bytes::Bytes;

use crate::error::RpcError;
use crate::service::{decode_request, encode_response, CallContext, RpcService};

/// A boxed, sendable future: what the server runs for one call.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Hadoop's `NameNode.OperationCategory`: what a method needs from the HA state of the
/// server. Only the NameNode checks it; the other protocols' rows are `Unchecked`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationCategory {
    /// Served in any state (HA state queries, admin commands that check themselves).
    Unchecked,
    /// Served by the Active, and by a Standby allowed stale reads.
    Read,
    /// Served by the Active only.
    Write,
}

/// One row's properties: what the server checks before the handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodInfo {
    pub name: &'static str,
    pub category: OperationCategory,
    /// Hadoop's `@AtMostOnce`: a retry of a call that succeeded must not run it again
    /// (the retry cache answers it); the other methods are `@Idempotent`.
    pub at_most_once: bool,
    /// Hadoop's `@ReadOnly(isCoordinated = true)`: a read an Observer NameNode serves
    /// only once it has applied the state the client has seen (the request header's
    /// `stateId`); see [`ProtocolService::align`].
    pub coordinated: bool,
    /// A method the service deliberately does not offer: every call answers this
    /// exception, without decoding the request or running anything.
    pub refusal: Option<Refusal>,
}

/// How a refused method answers: one Java exception class and one clear line, never
/// `RpcNoSuchMethodException` (which Java clients report with a stack trace).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `java.lang.UnsupportedOperationException` with this message.
    Unsupported(&'static str),
    /// The exception the reference implementation itself throws when the feature is
    /// off (e.g. HDFS's `SnapshotException`), with this message.
    Exception {
        class_name: &'static str,
        message: &'static str,
    },
}

impl Refusal {
    /// The exception's Java class name.
    pub fn class_name(&self) -> &'static str {
        match self {
            Refusal::Unsupported(_) => crate::exceptions::UNSUPPORTED_OPERATION,
            Refusal::Exception { class_name, .. } => class_name,
        }
    }

    /// The exception's message.
    pub fn message(&self) -> &'static str {
        match self {
            Refusal::Unsupported(message) | Refusal::Exception { message, .. } => message,
        }
    }

    /// The error every call of the refused method answers.
    pub fn error(&self) -> RpcError {
        RpcError::new(self.class_name(), self.message())
    }
}

/// The retry cache's answer for an at-most-once call (Hadoop's
/// `RetryCache.waitForCompletion`).
pub enum RetryLookup {
    /// The first attempt, or the earlier one failed: run the call and report how it
    /// went through the guard.
    Run(Box<dyn RetryGuard>),
    /// The call already succeeded: this is its answer, encoded.
    Answered(Bytes),
    /// The call already succeeded but its answer is not kept (the entry came from the
    /// edit log, say after a failover): the row's `replay` rebuilds it.
    Rebuild,
}

/// Held while an at-most-once call runs; reports its outcome to the retry cache.
pub trait RetryGuard: Send {
    /// `Some(answer)`: the call succeeded with this encoded response; `None`: it
    /// failed, and a retry runs it again.
    fn finish(self: Box<Self>, answer: Option<&[u8]>);
}

/// The guard of a service without a retry cache.
struct NotCached;

impl RetryGuard for NotCached {
    fn finish(self: Box<Self>, _answer: Option<&[u8]>) {}
}

/// A protocol served from a [`MethodTable`]. Every `ProtocolService` is an
/// [`RpcService`], so it registers with a [`crate::Server`] as any service does.
pub trait ProtocolService: Sized + Send + Sync + 'static {
    /// The protocol's table, built once (typically in a `LazyLock`).
    fn methods() -> &'static MethodTable<Self>;

    /// Runs before every handler, once its request decoded: the place for checks that
    /// depend on the row rather than the request (the NameNode's HA operation
    /// category; service-level authorization later). Default: admit every call.
    fn admit(&self, _ctx: &CallContext, _method: &MethodInfo) -> Result<(), RpcError> {
        Ok(())
    }

    /// Runs before [`ProtocolService::admit`], once the request decoded: Hadoop's
    /// state alignment (`AlignmentContext.receiveRequestState` and the call queue's
    /// requeue of a call whose `stateId` the server has not reached). A server that
    /// serves reads from a follower waits here until it has applied the state the
    /// client has seen (`ctx.state_id`), or refuses. Default: nothing to wait for.
    fn align<'a>(
        &'a self,
        _ctx: &'a CallContext,
        _method: &'a MethodInfo,
    ) -> impl Future<Output = Result<(), RpcError>> + Send + 'a {
        std::future::ready(Ok(()))
    }

    /// Asked for at-most-once rows, after [`ProtocolService::admit`]. A service with
    /// at-most-once rows implements it over its retry cache; the default runs the call.
    fn retry_lookup<'a>(
        &'a self,
        _ctx: &'a CallContext,
    ) -> impl Future<Output = RetryLookup> + Send + 'a {
        std::future::ready(RetryLookup::Run(Box::new(NotCached)))
    }
}

/// A typed handler: `async fn(&S, &CallContext, Req) -> Result<Resp, RpcError>`.
///
/// The lifetime parameter lets an `async fn` that borrows the service and the call
/// context be stored in a table (its future borrows both); implemented for every such
/// function, so a row just names the function.
pub trait Handler<'a, S: 'a, Req, Resp>: Send + Sync + 'static {
    type Future: Future<Output = Result<Resp, RpcError>> + Send + 'a;
    fn call(&'a self, service: &'a S, ctx: &'a CallContext, request: Req) -> Self::Future;
}

impl<'a, S, Req, Resp, F, Fut> Handler<'a, S, Req, Resp> for F
where
    S: 'a,
    F: Fn(&'a S, &'a CallContext, Req) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Resp, RpcError>> + Send + 'a,
{
    type Future = Fut;
    fn call(&'a self, service: &'a S, ctx: &'a CallContext, request: Req) -> Fut {
        self(service, ctx, request)
    }
}

/// A row's request message (any prost message).
pub trait RequestMessage: prost::Message + Default + Send + 'static {}
impl<T: prost::Message + Default + Send + 'static> RequestMessage for T {}
/// A row's response message (any prost message).
pub trait ResponseMessage: prost::Message + Send + 'static {}
impl<T: prost::Message + Send + 'static> ResponseMessage for T {}

/// A row's handler with its message types erased: bytes in, bytes out.
trait Run<S>: Send + Sync {
    fn run<'a>(
        &'a self,
        service: &'a S,
        ctx: &'a CallContext,
        info: &'a MethodInfo,
        request: Bytes,
    ) -> BoxFuture<'a, Result<Bytes, RpcError>>;

    /// Only the first step of `run`: decodes the request message.
    fn decode(&self, request: &[u8]) -> Result<(), RpcError>;
}

struct Typed<H, Req, Resp> {
    handler: H,
    messages: PhantomData<fn(Req) -> Resp>,
}

impl<S, Req, Resp, H> Run<S> for Typed<H, Req, Resp>
where
    S: ProtocolService,
    Req: RequestMessage,
    Resp: ResponseMessage,
    H: for<'a> Handler<'a, S, Req, Resp>,
{
    fn run<'a>(
        &'a self,
        service: &'a S,
        ctx: &'a CallContext,
        info: &'a MethodInfo,
        request: Bytes,
    ) -> BoxFuture<'a, Result<Bytes, RpcError>> {
        Box::pin(async move {
            let request: Req = decode_request(&request)?;
            service.align(ctx, info).await?;
            service.admit(ctx, info)?;
            let response = self.handler.call(service, ctx, request).await?;
            Ok(encode_response(&response))
        })
    }

    fn decode(&self, request: &[u8]) -> Result<(), RpcError> {
        decode_request::<Req>(request).map(drop)
    }
}

struct AtMostOnce<H, R, Req, Resp> {
    handler: H,
    replay: R,
    messages: PhantomData<fn(Req) -> Resp>,
}

impl<S, Req, Resp, H, R> Run<S> for AtMostOnce<H, R, Req, Resp>
where
    S: ProtocolService,
    Req: RequestMessage,
    Resp: ResponseMessage,
    H: for<'a> Handler<'a, S, Req, Resp>,
    R: Fn(&S, &CallContext, &Req) -> Result<Resp, RpcError> + Send + Sync + 'static,
{
    fn run<'a>(
        &'a self,
        service: &'a S,
        ctx: &'a CallContext,
        info: &'a MethodInfo,
        request: Bytes,
    ) -> BoxFuture<'a, Result<Bytes, RpcError>> {
        Box::pin(async move {
            let request: Req = decode_request(&request)?;
            service.align(ctx, info).await?;
            service.admit(ctx, info)?;
            match service.retry_lookup(ctx).await {
                RetryLookup::Answered(answer) => Ok(answer),
                RetryLookup::Rebuild => {
                    (self.replay)(service, ctx, &request).map(|r| encode_response(&r))
                }
                RetryLookup::Run(guard) => {
                    let result = self.handler.call(service, ctx, request).await;
                    let result = result.map(|r| encode_response(&r));
                    guard.finish(result.as_ref().ok().map(|b| &b[..]));
                    result
                }
            }
        })
    }

    fn decode(&self, request: &[u8]) -> Result<(), RpcError> {
        decode_request::<Req>(request).map(drop)
    }
}

/// The run of a refused row.
struct Refused(Refusal);

impl<S: ProtocolService> Run<S> for Refused {
    fn run<'a>(
        &'a self,
        _service: &'a S,
        _ctx: &'a CallContext,
        _info: &'a MethodInfo,
        _request: Bytes,
    ) -> BoxFuture<'a, Result<Bytes, RpcError>> {
        Box::pin(std::future::ready(Err(self.0.error())))
    }

    fn decode(&self, _request: &[u8]) -> Result<(), RpcError> {
        Ok(())
    }
}

struct Row<S> {
    info: MethodInfo,
    run: Box<dyn Run<S>>,
}

/// The methods of one protocol: name → (properties, typed handler). Built once with
/// the methods below, one row per method:
///
/// ```ignore
/// MethodTable::new(PROTOCOL)
///     .read("getFileInfo", Self::get_file_info)
///     .write("mkdirs", Self::mkdirs)
///     .at_most_once("delete", Self::delete, Self::delete_again)
/// ```
pub struct MethodTable<S> {
    protocol: &'static str,
    rows: HashMap<&'static str, Row<S>>,
}

impl<S: ProtocolService> MethodTable<S> {
    /// An empty table for `protocol`, the name clients put in
    /// `RequestHeaderProto.declaringClassProtocolName`.
    pub fn new(protocol: &'static str) -> Self {
        MethodTable {
            protocol,
            rows: HashMap::new(),
        }
    }

    /// A method with no HA category (`Unchecked`), as every method of the protocols
    /// other than the NameNode's ClientProtocol.
    pub fn method<Req, Resp, H>(self, name: &'static str, handler: H) -> Self
    where
        Req: RequestMessage,
        Resp: ResponseMessage,
        H: for<'a> Handler<'a, S, Req, Resp>,
    {
        self.typed(name, OperationCategory::Unchecked, false, handler)
    }

    /// A method in category READ.
    pub fn read<Req, Resp, H>(self, name: &'static str, handler: H) -> Self
    where
        Req: RequestMessage,
        Resp: ResponseMessage,
        H: for<'a> Handler<'a, S, Req, Resp>,
    {
        self.typed(name, OperationCategory::Read, false, handler)
    }

    /// A coordinated read (Hadoop's `@ReadOnly(isCoordinated = true)`): category READ,
    /// and an Observer serves it only once aligned with the client's state.
    pub fn coordinated_read<Req, Resp, H>(self, name: &'static str, handler: H) -> Self
    where
        Req: RequestMessage,
        Resp: ResponseMessage,
        H: for<'a> Handler<'a, S, Req, Resp>,
    {
        self.typed(name, OperationCategory::Read, true, handler)
    }

    /// A method in category WRITE.
    pub fn write<Req, Resp, H>(self, name: &'static str, handler: H) -> Self
    where
        Req: RequestMessage,
        Resp: ResponseMessage,
        H: for<'a> Handler<'a, S, Req, Resp>,
    {
        self.typed(name, OperationCategory::Write, false, handler)
    }

    /// An at-most-once method (category WRITE, as every at-most-once method of
    /// Hadoop's ClientProtocol). `replay` rebuilds the answer of a call that succeeded
    /// when the retry cache does not keep it ([`RetryLookup::Rebuild`]).
    pub fn at_most_once<Req, Resp, H, R>(self, name: &'static str, handler: H, replay: R) -> Self
    where
        Req: RequestMessage,
        Resp: ResponseMessage,
        H: for<'a> Handler<'a, S, Req, Resp>,
        R: Fn(&S, &CallContext, &Req) -> Result<Resp, RpcError> + Send + Sync + 'static,
    {
        let info = MethodInfo {
            name,
            category: OperationCategory::Write,
            at_most_once: true,
            coordinated: false,
            refusal: None,
        };
        let run = AtMostOnce {
            handler,
            replay,
            messages: PhantomData,
        };
        self.row(info, Box::new(run))
    }

    fn typed<Req, Resp, H>(
        self,
        name: &'static str,
        category: OperationCategory,
        coordinated: bool,
        handler: H,
    ) -> Self
    where
        Req: RequestMessage,
        Resp: ResponseMessage,
        H: for<'a> Handler<'a, S, Req, Resp>,
    {
        let info = MethodInfo {
            name,
            category,
            at_most_once: false,
            coordinated,
            refusal: None,
        };
        let run = Typed {
            handler,
            messages: PhantomData,
        };
        self.row(info, Box::new(run))
    }

    /// A method deliberately not offered: every call answers `refusal`'s exception
    /// at once (no decode, no HA check: the answer is the same on every NameNode).
    pub fn refused(self, name: &'static str, refusal: Refusal) -> Self {
        let info = MethodInfo {
            name,
            category: OperationCategory::Unchecked,
            at_most_once: false,
            coordinated: false,
            refusal: Some(refusal),
        };
        self.row(info, Box::new(Refused(refusal)))
    }

    fn row(mut self, info: MethodInfo, run: Box<dyn Run<S>>) -> Self {
        let name = info.name;
        let previous = self.rows.insert(name, Row { info, run });
        // A table is built once, from literals: a duplicate is a typo in the code.
        assert!(
            previous.is_none(),
            "{}: method {name} registered twice",
            self.protocol
        );
        self
    }

    /// The protocol's name.
    pub fn protocol(&self) -> &'static str {
        self.protocol
    }

    /// The row of `method`, if the protocol has one.
    pub fn info(&self, method: &str) -> Option<&MethodInfo> {
        self.rows.get(method).map(|r| &r.info)
    }

    /// Every row, in no particular order.
    pub fn rows(&self) -> impl Iterator<Item = &MethodInfo> {
        self.rows.values().map(|r| &r.info)
    }

    /// Decodes `request` as `method`'s request message, exactly as a call does before
    /// anything runs, without a service: the fuzz targets drive every method's decode
    /// through this.
    pub fn decode_request(&self, method: &str, request: &[u8]) -> Result<(), RpcError> {
        match self.rows.get(method) {
            Some(row) => row.run.decode(request),
            None => Err(RpcError::no_such_method(self.protocol, method)),
        }
    }

    /// Answers one call of `service` (see the module documentation for the steps).
    pub fn call<'a>(
        &'a self,
        service: &'a S,
        ctx: &'a CallContext,
        method: &'a str,
        request: Bytes,
    ) -> BoxFuture<'a, Result<Bytes, RpcError>> {
        match self.rows.get(method) {
            Some(row) => row.run.run(service, ctx, &row.info, request),
            None => Box::pin(std::future::ready(Err(RpcError::no_such_method(
                self.protocol,
                method,
            )))),
        }
    }
}

/// The glue every table-driven service would otherwise repeat.
///
/// `RpcService` is an `#[async_trait]` trait; this is the signature that macro gives
/// its `call`, written out so the table's boxed future is returned as is rather than
/// boxed a second time.
impl<S: ProtocolService> RpcService for S {
    fn protocol_name(&self) -> &'static str {
        S::methods().protocol()
    }

    fn call<'life0, 'life1, 'life2, 'async_trait>(
        &'life0 self,
        ctx: &'life1 CallContext,
        method: &'life2 str,
        request: Bytes,
    ) -> BoxFuture<'async_trait, Result<Bytes, RpcError>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        Self: 'async_trait,
    {
        S::methods().call(self, ctx, method, request)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{LazyLock, Mutex};

    use hafs_proto::common::RequestHeaderProto as Echo;

    use super::*;
    use crate::exceptions;
    use crate::RpcErrorCode;

    const PROTOCOL: &str = "org.example.EchoProtocol";

    /// A service whose rows echo the request's method name; records what ran.
    #[derive(Default)]
    struct EchoService {
        refuse: AtomicBool,
        admitted: Mutex<Vec<MethodInfo>>,
        runs: AtomicUsize,
        lookup: Mutex<Option<RetryLookup>>,
        finished: std::sync::Arc<Mutex<Vec<Option<Vec<u8>>>>>,
    }

    struct Guard(std::sync::Arc<Mutex<Vec<Option<Vec<u8>>>>>);

    impl RetryGuard for Guard {
        fn finish(self: Box<Self>, answer: Option<&[u8]>) {
            self.0.lock().unwrap().push(answer.map(<[u8]>::to_vec));
        }
    }

    impl EchoService {
        async fn echo(&self, _ctx: &CallContext, r: Echo) -> Result<Echo, RpcError> {
            self.runs.fetch_add(1, Ordering::SeqCst);
            if r.method_name == "fail" {
                return Err(RpcError::io("failed"));
            }
            Ok(r)
        }

        fn echo_again(&self, _ctx: &CallContext, r: &Echo) -> Result<Echo, RpcError> {
            Ok(Echo {
                method_name: format!("again {}", r.method_name),
                ..Default::default()
            })
        }
    }

    impl ProtocolService for EchoService {
        fn methods() -> &'static MethodTable<Self> {
            static METHODS: LazyLock<MethodTable<EchoService>> = LazyLock::new(|| {
                MethodTable::new(PROTOCOL)
                    .method("echo", EchoService::echo)
                    .read("readEcho", EchoService::echo)
                    .at_most_once("onceEcho", EchoService::echo, EchoService::echo_again)
                    .refused("noEcho", Refusal::Unsupported("echoes are off"))
            });
            &METHODS
        }

        fn admit(&self, _ctx: &CallContext, method: &MethodInfo) -> Result<(), RpcError> {
            self.admitted.lock().unwrap().push(*method);
            if self.refuse.load(Ordering::SeqCst) {
                return Err(RpcError::standby("refused"));
            }
            Ok(())
        }

        async fn retry_lookup(&self, _ctx: &CallContext) -> RetryLookup {
            self.lookup
                .lock()
                .unwrap()
                .take()
                .unwrap_or_else(|| RetryLookup::Run(Box::new(Guard(self.finished.clone()))))
        }
    }

    fn ctx() -> CallContext {
        CallContext {
            user: "u".into(),
            real_user: None,
            auth_method: crate::auth::AuthMethod::Simple,
            principal: None,
            token_identifier: None,
            client_id: Bytes::new(),
            call_id: 1,
            retry_count: 0,
            peer: "127.0.0.1:1".parse().unwrap(),
            state_id: None,
        }
    }

    fn echo(name: &str) -> Bytes {
        encode_response(&Echo {
            method_name: name.into(),
            ..Default::default()
        })
    }

    async fn call(s: &EchoService, method: &str, req: Bytes) -> Result<Echo, RpcError> {
        let b = RpcService::call(s, &ctx(), method, req).await?;
        Ok(decode_request(&b).unwrap())
    }

    #[tokio::test]
    async fn unknown_method_answers_as_hadoop() {
        let s = EchoService::default();
        assert_eq!(s.protocol_name(), PROTOCOL);
        let err = call(&s, "nope", echo("x")).await.unwrap_err();
        assert_eq!(err, RpcError::no_such_method(PROTOCOL, "nope"));
        assert_eq!(err.class_name, exceptions::RPC_NO_SUCH_METHOD);
        assert_eq!(err.code, RpcErrorCode::ErrorNoSuchMethod);
        assert_eq!(
            err.message,
            "Unknown method nope called on org.example.EchoProtocol protocol."
        );
        assert!(s.admitted.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_row_decodes_admits_runs_and_encodes() {
        let s = EchoService::default();
        assert_eq!(
            call(&s, "readEcho", echo("hi")).await.unwrap().method_name,
            "hi"
        );
        let admitted = s.admitted.lock().unwrap().clone();
        assert_eq!(
            admitted,
            vec![MethodInfo {
                name: "readEcho",
                category: OperationCategory::Read,
                at_most_once: false,
                coordinated: false,
                refusal: None,
            }]
        );
        assert_eq!(
            MethodTable::info(EchoService::methods(), "echo").map(|i| i.category),
            Some(OperationCategory::Unchecked)
        );
        assert_eq!(EchoService::methods().rows().count(), 4);
    }

    #[tokio::test]
    async fn a_refused_row_answers_its_exception_without_running() {
        let s = EchoService::default();
        // Even bytes that are no request at all: nothing is decoded.
        let err = call(&s, "noEcho", Bytes::from_static(&[0xff]))
            .await
            .unwrap_err();
        assert_eq!(err.class_name, exceptions::UNSUPPORTED_OPERATION);
        assert_eq!(err.message, "echoes are off");
        assert_ne!(err.code, RpcErrorCode::ErrorNoSuchMethod);
        assert!(s.admitted.lock().unwrap().is_empty());
        assert_eq!(s.runs.load(Ordering::SeqCst), 0);
        let info = EchoService::methods().info("noEcho").unwrap();
        assert_eq!(info.refusal, Some(Refusal::Unsupported("echoes are off")));
        let other = Refusal::Exception {
            class_name: "org.example.OffException",
            message: "off",
        };
        assert_eq!(other.error().class_name, "org.example.OffException");
        assert_eq!(other.error().message, "off");
    }

    #[tokio::test]
    async fn bad_request_is_refused_before_admit_and_handler() {
        let s = EchoService::default();
        let err = call(&s, "echo", Bytes::from_static(&[0x0a, 0x05, b'a']))
            .await
            .unwrap_err();
        assert_eq!(err.class_name, exceptions::IO);
        assert!(
            err.message.contains("RequestHeaderProto"),
            "{}",
            err.message
        );
        assert!(s.admitted.lock().unwrap().is_empty());
        assert_eq!(s.runs.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_refused_call_does_not_run() {
        let s = EchoService::default();
        s.refuse.store(true, Ordering::SeqCst);
        for method in ["echo", "onceEcho"] {
            let err = call(&s, method, echo("x")).await.unwrap_err();
            assert!(err.is_standby());
        }
        assert_eq!(s.runs.load(Ordering::SeqCst), 0);
        assert!(s.finished.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn at_most_once_goes_through_the_retry_cache() {
        let s = EchoService::default();
        // First attempt: runs, and the guard learns the answer.
        assert_eq!(
            call(&s, "onceEcho", echo("a")).await.unwrap().method_name,
            "a"
        );
        assert_eq!(
            s.finished.lock().unwrap().clone(),
            vec![Some(echo("a").to_vec())]
        );
        // A failed attempt is reported as failed.
        assert!(call(&s, "onceEcho", echo("fail")).await.is_err());
        assert_eq!(s.finished.lock().unwrap().last().unwrap(), &None);
        assert_eq!(s.runs.load(Ordering::SeqCst), 2);
        // A retry of a call that succeeded: the cached answer, nothing runs.
        *s.lookup.lock().unwrap() = Some(RetryLookup::Answered(echo("cached")));
        assert_eq!(
            call(&s, "onceEcho", echo("b")).await.unwrap().method_name,
            "cached"
        );
        // ... or the answer rebuilt by the row's replay.
        *s.lookup.lock().unwrap() = Some(RetryLookup::Rebuild);
        assert_eq!(
            call(&s, "onceEcho", echo("c")).await.unwrap().method_name,
            "again c"
        );
        assert_eq!(s.runs.load(Ordering::SeqCst), 2);
        // Rows that are not at-most-once never ask the cache.
        *s.lookup.lock().unwrap() = Some(RetryLookup::Answered(echo("cached")));
        assert_eq!(call(&s, "echo", echo("d")).await.unwrap().method_name, "d");
    }
}
