//! The streamer task of one file being written (Hadoop's DataStreamer and
//! ResponseProcessor): it owns the write pipeline, allocates blocks, sends packets,
//! matches acks, sends heartbeats while idle, and rebuilds the pipeline when a
//! DataNode fails.
//!
//! The user-facing [`DfsOutputStream`](super::DfsOutputStream) cuts packets and hands
//! them over a bounded channel; the number of packets sent but not acknowledged is
//! bounded by `dfs.client.write.max-packets-in-flight`, so a slow pipeline slows the
//! writer instead of growing memory.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use hafs_datatransfer::{
    read_ack, response_status, write_packet, BlockConstructionStage as Stage, DataChecksum,
    OpRequest, Packet, PipelineAckProto, Status,
};
use hafs_proto::common::TokenProto;
use hafs_proto::hdfs::{
    BaseHeaderProto, CachingStrategyProto, ClientOperationHeaderProto, DatanodeInfoProto,
    ExtendedBlockProto, GetAdditionalDatanodeRequestProto, LocatedBlockProto, OpTransferBlockProto,
    OpWriteBlockProto, StorageTypeProto,
};
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use super::packetizer::OutPacket;
use super::recovery::{
    index_of_bad_link, judge_ack, recovery_stage, should_replace_datanode, xfer_addr, AckVerdict,
};
use crate::datanode_conn::{response_error, timed, DnConn, DnWriter};
use crate::error::ClientError;
use crate::settings::DataSettings;
use crate::transport::NamenodeTransport;
use crate::DfsClient;

/// Most times one failure may be retried by rebuilding the pipeline (each attempt
/// removes a DataNode or gets a new one, so this is also a bound on nodes tried).
const MAX_RECOVERY_ATTEMPTS: usize = 8;

/// What the output stream asks of the streamer.
pub enum Cmd {
    Packet(OutPacket),
    /// Wait until every packet sent so far is acknowledged; answers the current block
    /// and its acknowledged length (for the NameNode's fsync).
    Flush(oneshot::Sender<Result<Option<ExtendedBlockProto>, ClientError>>),
    /// Wait for every ack, tear down the pipeline; answers the file's last block.
    Close(oneshot::Sender<Result<Option<ExtendedBlockProto>, ClientError>>),
}

/// The state the streamer starts from.
pub struct StreamerInit<T: NamenodeTransport> {
    pub client: DfsClient<T>,
    pub src: String,
    pub file_id: u64,
    pub replication: u16,
    pub checksum: DataChecksum,
    pub settings: DataSettings,
    /// For an append to a partial last block: that block, to be reopened.
    pub append_block: Option<LocatedBlockProto>,
    /// The last complete block (an append that starts a new block passes it as the
    /// `previous` of its first addBlock).
    pub previous: Option<ExtendedBlockProto>,
    /// Shared with the output stream so `write` fails fast after a fatal error.
    pub error_slot: Arc<Mutex<Option<String>>>,
}

/// An open pipeline.
struct Pipeline {
    writer: DnWriter,
    acks: mpsc::Receiver<Result<PipelineAckProto, ClientError>>,
    ack_task: JoinHandle<()>,
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        self.ack_task.abort();
    }
}

pub struct Streamer<T: NamenodeTransport> {
    client: DfsClient<T>,
    src: String,
    file_id: u64,
    replication: u16,
    checksum: DataChecksum,
    settings: DataSettings,
    timeout: Duration,
    error_slot: Arc<Mutex<Option<String>>>,

    /// The block being written; `num_bytes` is the acknowledged length.
    block: Option<ExtendedBlockProto>,
    token: TokenProto,
    nodes: Vec<DatanodeInfoProto>,
    storage_ids: Vec<String>,
    storage_types: Vec<i32>,
    stage: Stage,
    pipeline: Option<Pipeline>,
    /// Packets sent and not yet acknowledged, oldest first.
    ack_queue: VecDeque<OutPacket>,
    /// End offset in the block of the furthest packet sent.
    bytes_sent: u64,
    /// The last finished block.
    previous: Option<ExtendedBlockProto>,
    /// DataNodes that failed this writer; excluded from new blocks and replacements.
    failed_nodes: Vec<DatanodeInfoProto>,
    is_append: bool,
    hflushed: bool,
    /// A fatal error: every later request answers it.
    fatal: Option<ClientError>,
    last_send: tokio::time::Instant,
}

fn same_node(a: &DatanodeInfoProto, b: &DatanodeInfoProto) -> bool {
    a.id.datanode_uuid == b.id.datanode_uuid
        && a.id.ip_addr == b.id.ip_addr
        && a.id.xfer_port == b.id.xfer_port
}

fn node_names(nodes: &[DatanodeInfoProto]) -> String {
    let v: Vec<String> = nodes.iter().map(|n| xfer_addr(n, false)).collect();
    format!("[{}]", v.join(", "))
}

fn clone_err(e: &ClientError) -> ClientError {
    match e {
        ClientError::Remote {
            class_name,
            message,
        } => ClientError::remote(class_name, message.clone()),
        ClientError::DataPath {
            class_name,
            message,
        } => ClientError::data_path(class_name, message.clone()),
        other => ClientError::io(other.to_string()),
    }
}

/// Why sending or setting up failed, and whom to blame.
struct PipelineFailure {
    bad_index: usize,
    error: ClientError,
}

impl<T: NamenodeTransport> Streamer<T> {
    pub fn new(init: StreamerInit<T>) -> Streamer<T> {
        let timeout = Duration::from_millis(init.settings.socket_timeout_ms);
        let mut s = Streamer {
            client: init.client,
            src: init.src,
            file_id: init.file_id,
            replication: init.replication,
            checksum: init.checksum,
            settings: init.settings,
            timeout,
            error_slot: init.error_slot,
            block: None,
            token: TokenProto::default(),
            nodes: vec![],
            storage_ids: vec![],
            storage_types: vec![],
            stage: Stage::PipelineSetupCreate,
            pipeline: None,
            ack_queue: VecDeque::new(),
            bytes_sent: 0,
            previous: init.previous,
            failed_nodes: vec![],
            is_append: false,
            hflushed: false,
            fatal: None,
            last_send: tokio::time::Instant::now(),
        };
        if let Some(lb) = init.append_block {
            s.bytes_sent = lb.b.num_bytes.unwrap_or(0);
            s.block = Some(lb.b.clone());
            s.token = lb.block_token.clone();
            s.nodes = lb.locs.clone();
            s.storage_ids = lb.storage_i_ds.clone();
            s.storage_types = lb.storage_types.clone();
            s.stage = Stage::PipelineSetupAppend;
            s.is_append = true;
        }
        s
    }

    fn heartbeat_interval(&self) -> Duration {
        self.timeout / 2
    }

    fn set_fatal(&mut self, e: ClientError) {
        warn!(src = %self.src, "write failed: {e}");
        if let Ok(mut slot) = self.error_slot.lock() {
            *slot = Some(e.to_string());
        }
        self.pipeline = None;
        self.fatal = Some(e);
    }

    fn fatal_err(&self) -> Option<ClientError> {
        self.fatal.as_ref().map(clone_err)
    }

    /// The task body.
    pub async fn run(mut self, mut rx: mpsc::Receiver<Cmd>) {
        loop {
            let idle = self.pipeline.is_some() && self.ack_queue.is_empty();
            let hb_at = self.last_send + self.heartbeat_interval();
            let cmd = tokio::select! {
                cmd = rx.recv() => cmd,
                ack = recv_ack(&mut self.pipeline), if self.pipeline.is_some() => {
                    self.on_ack(ack).await;
                    continue;
                }
                _ = tokio::time::sleep_until(hb_at), if idle => {
                    self.send_heartbeat().await;
                    continue;
                }
            };
            match cmd {
                None => {
                    // The stream was dropped without close: abandon the write; the
                    // NameNode recovers the file when the lease expires.
                    debug!(src = %self.src, "output stream dropped without close");
                    self.pipeline = None;
                    self.client.forget_lease(&self.src);
                    return;
                }
                Some(Cmd::Packet(p)) => {
                    if self.fatal.is_none() {
                        if let Err(e) = self.handle_packet(p).await {
                            self.set_fatal(e);
                        }
                    }
                }
                Some(Cmd::Flush(reply)) => {
                    let r = match self.fatal_err() {
                        Some(e) => Err(e),
                        None => match self.wait_all_acked().await {
                            Ok(()) => {
                                self.hflushed = true;
                                Ok(self.block.clone())
                            }
                            Err(e) => {
                                self.set_fatal(clone_err(&e));
                                Err(e)
                            }
                        },
                    };
                    let _ = reply.send(r);
                }
                Some(Cmd::Close(reply)) => {
                    let r = match self.fatal_err() {
                        Some(e) => Err(e),
                        None => match self.wait_all_acked().await {
                            Ok(()) => {
                                self.pipeline = None;
                                Ok(self.block.clone().or_else(|| self.previous.clone()))
                            }
                            Err(e) => Err(e),
                        },
                    };
                    let _ = reply.send(r);
                    return;
                }
            }
        }
    }

    async fn send_heartbeat(&mut self) {
        let Some(p) = self.pipeline.as_mut() else {
            return;
        };
        let hb = Packet::heartbeat();
        let addr = self
            .nodes
            .first()
            .map(|n| xfer_addr(n, false))
            .unwrap_or_default();
        let w = &mut p.writer;
        let r = timed(&addr, self.timeout, "sending heartbeat to", async {
            write_packet(w, &hb.header, &[], &[]).await?;
            w.flush().await?;
            Ok(())
        })
        .await;
        self.last_send = tokio::time::Instant::now();
        if let Err(e) = r {
            self.recover_or_fail(0, e).await;
        }
    }

    /// One ack arrived (or the ack stream failed).
    async fn on_ack(&mut self, ack: Result<PipelineAckProto, ClientError>) {
        let ack = match ack {
            Ok(a) => a,
            Err(e) => {
                self.recover_or_fail(0, e).await;
                return;
            }
        };
        let expected = self.ack_queue.front().map(|p| p.seqno);
        match judge_ack(&ack, expected, self.nodes.len()) {
            AckVerdict::Success => {
                if let Some(p) = self.ack_queue.pop_front() {
                    if let Some(b) = self.block.as_mut() {
                        let acked = b.num_bytes.unwrap_or(0).max(p.end_offset());
                        b.num_bytes = Some(acked);
                    }
                }
            }
            AckVerdict::Heartbeat => {}
            AckVerdict::BadNode(i) => {
                let who = self
                    .nodes
                    .get(i)
                    .map(|n| xfer_addr(n, false))
                    .unwrap_or_default();
                let e = ClientError::io(format!(
                    "Bad response {:?} for block {} from datanode {who}",
                    Status::try_from(hafs_datatransfer_status(&ack, i)).unwrap_or(Status::Error),
                    self.block_name()
                ));
                self.recover_or_fail(i, e).await;
            }
            AckVerdict::Unexpected { expected, got } => {
                let e = ClientError::io(format!(
                    "Response ack seqno {got} does not match expected {expected:?} for block {}",
                    self.block_name()
                ));
                self.set_fatal(e);
            }
        }
    }

    fn block_name(&self) -> String {
        match &self.block {
            Some(b) => format!("{}:blk_{}_{}", b.pool_id, b.block_id, b.generation_stamp),
            None => "(none)".into(),
        }
    }

    /// Waits for acks until the queue has room (or is empty with `all`).
    async fn wait_acks(&mut self, all: bool) -> Result<(), ClientError> {
        let limit = if all {
            0
        } else {
            self.settings.max_packets_in_flight.saturating_sub(1)
        };
        while self.ack_queue.len() > limit {
            if let Some(e) = self.fatal_err() {
                return Err(e);
            }
            if self.pipeline.is_none() {
                // Packets are queued but no pipeline: rebuild it.
                self.recover_or_fail(usize::MAX, ClientError::io("pipeline closed"))
                    .await;
                continue;
            }
            let ack = match tokio::time::timeout(self.timeout, recv_ack(&mut self.pipeline)).await {
                Ok(a) => a,
                Err(_) => Err(ClientError::io(format!(
                    "no ack from the pipeline {} within {} ms",
                    node_names(&self.nodes),
                    self.timeout.as_millis()
                ))),
            };
            self.on_ack(ack).await;
        }
        match self.fatal_err() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    async fn wait_all_acked(&mut self) -> Result<(), ClientError> {
        self.wait_acks(true).await
    }

    async fn handle_packet(&mut self, p: OutPacket) -> Result<(), ClientError> {
        if p.last_in_block {
            // As Hadoop: the last packet goes only after every other one is acked.
            self.wait_all_acked().await?;
            if self.block.is_none() {
                // A block with no data was never opened (cannot happen with the
                // packetizer, but an empty close packet needs no pipeline).
                return Ok(());
            }
        } else {
            self.wait_acks(false).await?;
        }
        if self.pipeline.is_none() {
            if self.block.is_none() {
                self.next_block().await?;
            } else if self.stage == Stage::PipelineSetupAppend {
                match self.setup_with_new_gs(Stage::PipelineSetupAppend).await {
                    Ok(()) => {}
                    Err(SetupError::Nn(e)) => return Err(e),
                    Err(SetupError::Node(f)) => {
                        self.recover_or_fail(f.bad_index, f.error).await;
                        if let Some(e) = self.fatal_err() {
                            return Err(e);
                        }
                    }
                }
            }
        }
        if p.last_in_block {
            self.stage = Stage::PipelineClose;
        }
        let last = p.last_in_block;
        self.ack_queue.push_back(p);
        let idx = self.ack_queue.len() - 1;
        if let Err(f) = self.send_queued(idx).await {
            self.recover_or_fail(f.bad_index, f.error).await;
        }
        if let Some(e) = self.fatal_err() {
            return Err(e);
        }
        if last {
            self.wait_all_acked().await?;
            self.end_block();
        }
        Ok(())
    }

    /// Sends the queued packet at `idx` on the current pipeline.
    async fn send_queued(&mut self, idx: usize) -> Result<(), PipelineFailure> {
        let p = &self.ack_queue[idx];
        let mut checksums = Vec::new();
        self.checksum.compute_into(&p.data, &mut checksums);
        let pkt = Packet::new(
            p.offset_in_block as i64,
            p.seqno,
            p.last_in_block,
            p.sync,
            Bytes::from(checksums),
            p.data.clone(),
        );
        let end = p.end_offset();
        let addr = self
            .nodes
            .first()
            .map(|n| xfer_addr(n, false))
            .unwrap_or_default();
        let Some(pl) = self.pipeline.as_mut() else {
            return Err(PipelineFailure {
                bad_index: 0,
                error: ClientError::io("no pipeline"),
            });
        };
        let w = &mut pl.writer;
        timed(&addr, self.timeout, "sending packet to", async {
            write_packet(w, &pkt.header, &pkt.checksums, &pkt.data).await?;
            w.flush().await?;
            Ok(())
        })
        .await
        .map_err(|error| PipelineFailure {
            bad_index: 0,
            error,
        })?;
        self.bytes_sent = self.bytes_sent.max(end);
        self.last_send = tokio::time::Instant::now();
        if self.stage != Stage::PipelineClose {
            self.stage = Stage::DataStreaming;
        }
        Ok(())
    }

    /// The block is complete on its pipeline: remember it as `previous`.
    fn end_block(&mut self) {
        self.pipeline = None;
        self.previous = self.block.take();
        self.nodes.clear();
        self.storage_ids.clear();
        self.storage_types.clear();
        self.bytes_sent = 0;
        self.stage = Stage::PipelineSetupCreate;
        self.is_append = false;
        self.hflushed = false;
    }

    /// addBlock (retrying while the previous block is not yet replicated enough),
    /// then a PIPELINE_SETUP_CREATE pipeline; a DataNode refusing the set-up gets the
    /// block abandoned and excluded, as in Hadoop's nextBlockOutputStream.
    async fn next_block(&mut self) -> Result<(), ClientError> {
        let mut excluded: Vec<DatanodeInfoProto> = self.failed_nodes.clone();
        let attempts = self.settings.block_write_retries as usize + 1;
        let mut last_err = None;
        for _ in 0..attempts {
            let lb = self.add_block_with_retry(excluded.clone()).await?;
            if lb.locs.is_empty() {
                return Err(ClientError::io(format!(
                    "addBlock for {} returned no DataNodes",
                    self.src
                )));
            }
            self.block = Some(ExtendedBlockProto {
                num_bytes: Some(0),
                ..lb.b.clone()
            });
            self.token = lb.block_token.clone();
            self.nodes = lb.locs.clone();
            self.storage_ids = lb.storage_i_ds.clone();
            self.storage_types = lb.storage_types.clone();
            self.bytes_sent = 0;
            self.stage = Stage::PipelineSetupCreate;
            let gs = lb.b.generation_stamp;
            match self
                .create_pipeline(Stage::PipelineSetupCreate, gs, false)
                .await
            {
                Ok(()) => return Ok(()),
                Err(f) => {
                    warn!(src = %self.src, "pipeline set-up for {} failed: {}", self.block_name(), f.error);
                    if let Some(bad) = self.nodes.get(f.bad_index) {
                        excluded.push(bad.clone());
                    }
                    let b = lb.b.clone();
                    if let Err(e) = self.client.abandon_block(b, &self.src, self.file_id).await {
                        warn!(src = %self.src, "abandonBlock failed: {e}");
                    }
                    self.block = None;
                    self.pipeline = None;
                    last_err = Some(f.error);
                }
            }
        }
        Err(last_err.unwrap_or_else(|| ClientError::io("Unable to create new block.")))
    }

    async fn add_block_with_retry(
        &self,
        excluded: Vec<DatanodeInfoProto>,
    ) -> Result<LocatedBlockProto, ClientError> {
        let mut delay = Duration::from_millis(400);
        let mut retries = self.settings.locate_following_block_retries;
        loop {
            match self
                .client
                .add_block(
                    &self.src,
                    self.file_id,
                    self.previous.clone(),
                    excluded.clone(),
                    vec![],
                )
                .await
            {
                Ok(lb) => return Ok(lb),
                Err(e)
                    if retries > 0
                        && e.class_name()
                            == Some(
                                "org.apache.hadoop.hdfs.server.namenode.NotReplicatedYetException",
                            ) =>
                {
                    info!(src = %self.src, "addBlock: {}; retrying in {delay:?}", e.user_message());
                    retries -= 1;
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Connects to the first node and sends WRITE_BLOCK for the current block.
    async fn create_pipeline(
        &mut self,
        stage: Stage,
        new_gs: u64,
        recovery: bool,
    ) -> Result<(), PipelineFailure> {
        self.pipeline = None;
        let fail0 = |error| PipelineFailure {
            bad_index: 0,
            error,
        };
        let Some(block) = self.block.clone() else {
            return Err(fail0(ClientError::io("no block to write")));
        };
        let Some(first) = self.nodes.first() else {
            return Err(fail0(ClientError::io("empty pipeline")));
        };
        let addr = xfer_addr(first, self.settings.use_datanode_hostname);
        let mut conn = DnConn::connect(
            &addr,
            self.timeout,
            self.settings.data_transfer_protection.as_ref(),
            &self.token,
        )
        .await
        .map_err(fail0)?;
        let targets = self.nodes[1..].to_vec();
        let storage_type = |i: usize| {
            self.storage_types
                .get(i)
                .copied()
                .unwrap_or(StorageTypeProto::Disk as i32)
        };
        let op = OpWriteBlockProto {
            header: ClientOperationHeaderProto {
                base_header: BaseHeaderProto {
                    block: block.clone(),
                    token: Some(self.token.clone()),
                    trace_info: None,
                },
                client_name: self.client.client_name().to_string(),
            },
            targets: targets.clone(),
            source: None,
            stage: stage as i32,
            pipeline_size: self.nodes.len() as u32,
            min_bytes_rcvd: block.num_bytes.unwrap_or(0),
            max_bytes_rcvd: self.bytes_sent,
            latest_generation_stamp: new_gs,
            requested_checksum: self.checksum.to_proto(),
            caching_strategy: Some(CachingStrategyProto::default()),
            storage_type: Some(storage_type(0)),
            target_storage_types: (1..self.nodes.len()).map(storage_type).collect(),
            allow_lazy_persist: Some(false),
            pinning: Some(false),
            target_pinnings: vec![false; targets.len()],
            storage_id: self.storage_ids.first().cloned(),
            target_storage_ids: self.storage_ids.iter().skip(1).cloned().collect(),
        };
        conn.send_op(&OpRequest::WriteBlock(op))
            .await
            .map_err(fail0)?;
        let resp = conn.read_response().await.map_err(fail0)?;
        if response_status(&resp) != Status::Success {
            let link = resp.first_bad_link.clone().unwrap_or_default();
            let bad_index = if link.is_empty() {
                0
            } else {
                index_of_bad_link(&self.nodes, &link)
            };
            return Err(PipelineFailure {
                bad_index,
                error: response_error(&addr, "WRITE_BLOCK", &resp),
            });
        }
        debug!(src = %self.src, block = %self.block_name(), ?stage, recovery, nodes = %node_names(&self.nodes), "pipeline up");
        let (tx, rx) = mpsc::channel(self.settings.max_packets_in_flight + 8);
        let mut reader = conn.reader;
        let ack_addr = addr.clone();
        let ack_task = tokio::spawn(async move {
            loop {
                let r = read_ack(&mut reader)
                    .await
                    .map_err(|e| ClientError::io(format!("reading ack from {ack_addr}: {e}")));
                let stop = r.is_err();
                if tx.send(r).await.is_err() || stop {
                    return;
                }
            }
        });
        self.pipeline = Some(Pipeline {
            writer: conn.writer,
            acks: rx,
            ack_task,
        });
        self.last_send = tokio::time::Instant::now();
        Ok(())
    }

    /// Rebuilds the pipeline after DataNode `bad_index` failed (`usize::MAX`: nobody
    /// to blame, e.g. the pipeline is simply gone), or records a fatal error.
    async fn recover_or_fail(&mut self, bad_index: usize, error: ClientError) {
        if self.fatal.is_some() {
            return;
        }
        if self.block.is_none() {
            self.set_fatal(error);
            return;
        }
        warn!(src = %self.src, block = %self.block_name(), "pipeline error: {error}; recovering");
        let mut bad = (bad_index != usize::MAX).then_some(bad_index);
        let stage = recovery_stage(self.stage);
        let mut last_error = error;
        for _ in 0..MAX_RECOVERY_ATTEMPTS {
            self.pipeline = None;
            if let Some(i) = bad.take() {
                if i < self.nodes.len() {
                    let n = self.nodes.remove(i);
                    if i < self.storage_ids.len() {
                        self.storage_ids.remove(i);
                    }
                    if i < self.storage_types.len() {
                        self.storage_types.remove(i);
                    }
                    self.failed_nodes.push(n);
                }
            }
            if self.nodes.is_empty() {
                self.set_fatal(ClientError::io(format!(
                    "All datanodes {} are bad. Aborting... ({last_error})",
                    node_names(&self.failed_nodes)
                )));
                return;
            }
            match self.rebuild(stage).await {
                Ok(()) => return,
                Err(Rebuild::Fatal(e)) => {
                    self.set_fatal(e);
                    return;
                }
                Err(Rebuild::Node(f)) => {
                    warn!(src = %self.src, "pipeline recovery attempt failed: {}", f.error);
                    bad = Some(f.bad_index);
                    last_error = f.error;
                }
            }
        }
        self.set_fatal(ClientError::io(format!(
            "pipeline recovery for {} gave up: {last_error}",
            self.block_name()
        )));
    }

    /// One attempt: maybe add a DataNode, new generation stamp, new pipeline,
    /// updatePipeline, re-send unacknowledged packets.
    async fn rebuild(&mut self, stage: Stage) -> Result<(), Rebuild> {
        let append = self.is_append || stage == Stage::PipelineSetupAppendRecovery;
        if should_replace_datanode(
            self.settings.replace_datanode_policy,
            self.replication,
            self.nodes.len(),
            append,
            self.hflushed,
        ) {
            if let Err(e) = self.add_datanode().await {
                match e {
                    Rebuild::Node(f) => return Err(Rebuild::Node(f)),
                    Rebuild::Fatal(e) if self.settings.replace_datanode_best_effort => {
                        warn!(src = %self.src, "no replacement DataNode (best effort): {e}");
                    }
                    Rebuild::Fatal(e) => return Err(Rebuild::Fatal(e)),
                }
            }
        }
        self.setup_with_new_gs(stage).await.map_err(|e| match e {
            SetupError::Nn(e) => Rebuild::Fatal(e),
            SetupError::Node(f) => Rebuild::Node(f),
        })?;
        // Re-send what was not acknowledged, in order.
        for i in 0..self.ack_queue.len() {
            if let Err(f) = self.send_queued(i).await {
                return Err(Rebuild::Node(f));
            }
        }
        if self.stage == Stage::DataStreaming && stage == Stage::PipelineCloseRecovery {
            self.stage = Stage::PipelineClose;
        }
        Ok(())
    }

    /// updateBlockForPipeline → WRITE_BLOCK with the new generation stamp → updatePipeline.
    async fn setup_with_new_gs(&mut self, stage: Stage) -> Result<(), SetupError> {
        let Some(old) = self.block.clone() else {
            return Err(SetupError::Nn(ClientError::io("no block")));
        };
        let lb = self
            .client
            .update_block_for_pipeline(old.clone())
            .await
            .map_err(SetupError::Nn)?;
        let new_gs = lb.b.generation_stamp;
        self.token = lb.block_token.clone();
        self.create_pipeline(stage, new_gs, true)
            .await
            .map_err(SetupError::Node)?;
        let new_block = ExtendedBlockProto {
            generation_stamp: new_gs,
            ..old.clone()
        };
        self.client
            .update_pipeline(
                old,
                new_block.clone(),
                self.nodes.iter().map(|n| n.id.clone()).collect(),
                self.storage_ids.clone(),
            )
            .await
            .map_err(SetupError::Nn)?;
        self.block = Some(new_block);
        if stage == Stage::PipelineSetupAppend {
            self.stage = Stage::DataStreaming;
        }
        Ok(())
    }

    /// getAdditionalDatanode, then copy the replica being written to the new node
    /// (TRANSFER_BLOCK asks an existing node to send it with stage TRANSFER_RBW).
    async fn add_datanode(&mut self) -> Result<(), Rebuild> {
        let Some(block) = self.block.clone() else {
            return Err(Rebuild::Fatal(ClientError::io("no block")));
        };
        let req = GetAdditionalDatanodeRequestProto {
            src: self.src.clone(),
            blk: block.clone(),
            existings: self.nodes.clone(),
            excludes: self.failed_nodes.clone(),
            num_additional_nodes: 1,
            client_name: String::new(),
            existing_storage_uuids: self.storage_ids.clone(),
            file_id: Some(self.file_id),
        };
        let lb = self
            .client
            .get_additional_datanode(req)
            .await
            .map_err(Rebuild::Fatal)?;
        let Some(new_idx) = lb
            .locs
            .iter()
            .position(|n| !self.nodes.iter().any(|e| same_node(e, n)))
        else {
            return Err(Rebuild::Fatal(ClientError::io(
                "getAdditionalDatanode returned no new DataNode",
            )));
        };
        let acked = block.num_bytes.unwrap_or(0);
        if acked > 0 || self.is_append {
            // Copy from the node before the new one (or the first), as Hadoop does.
            let src_idx = if new_idx == 0 { 1 } else { new_idx - 1 };
            let Some(source) = lb.locs.get(src_idx).cloned() else {
                return Err(Rebuild::Fatal(ClientError::io("no source for transfer")));
            };
            let target = lb.locs[new_idx].clone();
            self.transfer(&source, &target, &block, &lb).await?;
        }
        self.nodes = lb.locs.clone();
        self.storage_ids = lb.storage_i_ds.clone();
        self.storage_types = lb.storage_types.clone();
        info!(src = %self.src, nodes = %node_names(&self.nodes), "added a DataNode to the pipeline");
        Ok(())
    }

    async fn transfer(
        &self,
        source: &DatanodeInfoProto,
        target: &DatanodeInfoProto,
        block: &ExtendedBlockProto,
        lb: &LocatedBlockProto,
    ) -> Result<(), Rebuild> {
        let addr = xfer_addr(source, self.settings.use_datanode_hostname);
        let node_fail = |error| {
            let bad_index = self
                .nodes
                .iter()
                .position(|n| same_node(n, source))
                .unwrap_or(0);
            Rebuild::Node(PipelineFailure { bad_index, error })
        };
        let mut conn = DnConn::connect(
            &addr,
            self.timeout,
            self.settings.data_transfer_protection.as_ref(),
            &lb.block_token,
        )
        .await
        .map_err(node_fail)?;
        let target_pos = lb.locs.iter().position(|n| same_node(n, target));
        let op = OpTransferBlockProto {
            header: ClientOperationHeaderProto {
                base_header: BaseHeaderProto {
                    block: block.clone(),
                    token: Some(lb.block_token.clone()),
                    trace_info: None,
                },
                client_name: self.client.client_name().to_string(),
            },
            targets: vec![target.clone()],
            target_storage_types: target_pos
                .and_then(|i| lb.storage_types.get(i).copied())
                .into_iter()
                .collect(),
            target_storage_ids: target_pos
                .and_then(|i| lb.storage_i_ds.get(i).cloned())
                .into_iter()
                .collect(),
        };
        conn.send_op(&OpRequest::TransferBlock(op))
            .await
            .map_err(node_fail)?;
        // The source answers once the copy is done; that may take a while.
        let resp = tokio::time::timeout(self.timeout * 2, conn.read_response())
            .await
            .map_err(|_| node_fail(ClientError::io(format!("transfer from {addr} timed out"))))?
            .map_err(node_fail)?;
        if response_status(&resp) != Status::Success {
            return Err(Rebuild::Fatal(response_error(
                &addr,
                "TRANSFER_BLOCK",
                &resp,
            )));
        }
        Ok(())
    }
}

enum Rebuild {
    /// A DataNode failed: blame it and try again.
    Node(PipelineFailure),
    /// The NameNode refused, or nothing more can be tried.
    Fatal(ClientError),
}

enum SetupError {
    Nn(ClientError),
    Node(PipelineFailure),
}

fn hafs_datatransfer_status(ack: &PipelineAckProto, i: usize) -> i32 {
    super::recovery::ack_status(ack, i)
}

async fn recv_ack(pipeline: &mut Option<Pipeline>) -> Result<PipelineAckProto, ClientError> {
    match pipeline.as_mut() {
        Some(p) => match p.acks.recv().await {
            Some(r) => r,
            None => Err(ClientError::io("ack stream ended")),
        },
        None => std::future::pending().await,
    }
}
