//! Writing files: [`DfsOutputStream`] (Hadoop's DFSOutputStream).
//!
//! `create`/`append` on the NameNode, then bytes are cut into packets of 512-byte
//! CRC32C chunks ([`packetizer`]) and handed to a streamer task ([`streamer`]) that owns
//! the DataNode pipeline; `close` waits for every ack and completes the file.

pub mod packetizer;
pub mod recovery;
mod streamer;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hafs_datatransfer::{ChecksumType, DataChecksum};
use hafs_proto::hdfs::ExtendedBlockProto;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::error::ClientError;
use crate::transport::NamenodeTransport;
use crate::{CreateOptions, DfsClient};
use packetizer::Packetizer;
use streamer::{Cmd, Streamer, StreamerInit};

/// Packets queued between the stream and its streamer task (the in-flight bound is
/// enforced by the streamer's ack queue).
const CMD_QUEUE: usize = 4;

/// A file open for writing. Call [`close`](Self::close): dropping it abandons the
/// write (the NameNode recovers the file after the lease expires).
pub struct DfsOutputStream<T: NamenodeTransport = hafs_ipc::FailoverProxy> {
    client: DfsClient<T>,
    src: String,
    file_id: u64,
    packetizer: Packetizer,
    tx: Option<mpsc::Sender<Cmd>>,
    task: Option<JoinHandle<()>>,
    error_slot: Arc<Mutex<Option<String>>>,
    bytes_written: u64,
}

impl<T: NamenodeTransport> DfsOutputStream<T> {
    /// Creates `path` and opens it for writing.
    pub async fn create(
        client: &DfsClient<T>,
        path: &str,
        opts: &CreateOptions,
    ) -> Result<Self, ClientError> {
        let src = client.resolve(path)?;
        let ds = client.settings().data.clone();
        let block_size = opts.block_size.unwrap_or(client.settings().block_size);
        if !block_size.is_multiple_of(u64::from(ds.bytes_per_checksum)) {
            return Err(ClientError::io(format!(
                "io.bytes.per.checksum({}) and blockSize({block_size}) do not match. \
                 blockSize should be a multiple of io.bytes.per.checksum",
                ds.bytes_per_checksum
            )));
        }
        let st = client.create(&src, opts).await?;
        let replication = st.block_replication.unwrap_or(3) as u16;
        let block_size = st.blocksize.filter(|b| *b > 0).unwrap_or(block_size);
        Self::open(
            client,
            src,
            st.file_id.unwrap_or(0),
            replication,
            block_size,
            None,
            None,
        )
    }

    /// Opens an existing file for append. The last block is reopened when it is
    /// partial; otherwise writing starts a new block.
    pub async fn append(client: &DfsClient<T>, path: &str) -> Result<Self, ClientError> {
        let src = client.resolve(path)?;
        let r = client.append(&src, false).await?;
        let st = match r.stat {
            Some(s) => s,
            None => client.get_file_info(&src).await?.ok_or_else(|| {
                ClientError::remote(
                    hafs_ipc::exceptions::FILE_NOT_FOUND,
                    format!("File does not exist: {src}"),
                )
            })?,
        };
        let replication = st.block_replication.unwrap_or(3) as u16;
        let block_size = st
            .blocksize
            .filter(|b| *b > 0)
            .unwrap_or(client.settings().block_size);
        let (append_block, previous) = match r.block {
            Some(lb) if lb.b.num_bytes.unwrap_or(0) < block_size => (Some(lb), None),
            Some(lb) => (None, Some(lb.b)),
            None => (None, last_block_of(client, &src, st.length).await?),
        };
        Self::open(
            client,
            src,
            st.file_id.unwrap_or(0),
            replication,
            block_size,
            append_block,
            previous,
        )
    }

    fn open(
        client: &DfsClient<T>,
        src: String,
        file_id: u64,
        replication: u16,
        block_size: u64,
        append_block: Option<hafs_proto::hdfs::LocatedBlockProto>,
        previous: Option<ExtendedBlockProto>,
    ) -> Result<Self, ClientError> {
        let ds = client.settings().data.clone();
        let checksum = DataChecksum::new(ChecksumType::Crc32c, ds.bytes_per_checksum)
            .map_err(|e| ClientError::Config(format!("dfs.bytes-per-checksum: {e}")))?;
        let last_len = append_block
            .as_ref()
            .map(|lb| lb.b.num_bytes.unwrap_or(0))
            .unwrap_or(0);
        let packetizer = Packetizer::new(
            block_size,
            ds.bytes_per_checksum,
            ds.write_packet_size,
            last_len,
        );
        let error_slot = Arc::new(Mutex::new(None));
        let streamer = Streamer::new(StreamerInit {
            client: client.clone(),
            src: src.clone(),
            file_id,
            replication,
            checksum,
            settings: ds,
            append_block,
            previous,
            error_slot: error_slot.clone(),
        });
        let (tx, rx) = mpsc::channel(CMD_QUEUE);
        let task = tokio::spawn(streamer.run(rx));
        Ok(DfsOutputStream {
            client: client.clone(),
            src,
            file_id,
            packetizer,
            tx: Some(tx),
            task: Some(task),
            error_slot,
            bytes_written: 0,
        })
    }

    /// The absolute path being written.
    pub fn path(&self) -> &str {
        &self.src
    }

    /// Bytes written through this stream (not counting what an append started from).
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written
    }

    fn check_error(&self) -> Result<(), ClientError> {
        if let Ok(slot) = self.error_slot.lock() {
            if let Some(msg) = slot.as_ref() {
                return Err(ClientError::io(msg.clone()));
            }
        }
        Ok(())
    }

    async fn send(&mut self, cmd: Cmd) -> Result<(), ClientError> {
        let tx = self
            .tx
            .as_ref()
            .ok_or_else(|| ClientError::io("Stream closed"))?;
        if tx.send(cmd).await.is_err() {
            self.check_error()?;
            return Err(ClientError::io("the streamer task ended"));
        }
        Ok(())
    }

    /// Writes all of `buf`. Returns once the packets are queued (not acknowledged).
    pub async fn write(&mut self, buf: &[u8]) -> Result<(), ClientError> {
        self.check_error()?;
        // Feed in slices so one huge buffer does not become many queued packets at once.
        let step = self.packetizer.packet_data_capacity().max(1);
        for piece in buf.chunks(step) {
            for p in self.packetizer.write(piece) {
                self.send(Cmd::Packet(p)).await?;
            }
        }
        self.bytes_written += buf.len() as u64;
        Ok(())
    }

    async fn flush_impl(&mut self, sync: bool) -> Result<(), ClientError> {
        self.check_error()?;
        for p in self.packetizer.flush(sync) {
            self.send(Cmd::Packet(p)).await?;
        }
        let (tx, rx) = oneshot::channel();
        self.send(Cmd::Flush(tx)).await?;
        let block = rx
            .await
            .map_err(|_| ClientError::io("the streamer task ended"))??;
        // Make the flushed length visible to readers (getBlockLocations reports it).
        if let Some(b) = block {
            self.client
                .fsync(
                    &self.src,
                    self.file_id,
                    Some(b.num_bytes.unwrap_or(0) as i64),
                )
                .await?;
        }
        Ok(())
    }

    /// hflush: every byte written so far is acknowledged by all DataNodes of the
    /// pipeline and visible to new readers.
    pub async fn hflush(&mut self) -> Result<(), ClientError> {
        self.flush_impl(false).await
    }

    /// hsync: like hflush, and the DataNodes fsync the replica.
    pub async fn hsync(&mut self) -> Result<(), ClientError> {
        self.flush_impl(true).await
    }

    /// Sends the rest, waits for every ack, and completes the file on the NameNode
    /// (retrying while it answers "not yet", with Hadoop's backoff).
    pub async fn close(mut self) -> Result<(), ClientError> {
        let r = self.close_impl().await;
        if r.is_err() {
            self.client.forget_lease(&self.src);
        }
        r
    }

    async fn close_impl(&mut self) -> Result<(), ClientError> {
        self.check_error()?;
        for p in self.packetizer.close() {
            self.send(Cmd::Packet(p)).await?;
        }
        let (tx, rx) = oneshot::channel();
        self.send(Cmd::Close(tx)).await?;
        let last = rx
            .await
            .map_err(|_| ClientError::io("the streamer task ended"))??;
        self.tx = None;
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        complete_file(&self.client, &self.src, self.file_id, last).await
    }
}

impl<T: NamenodeTransport> Drop for DfsOutputStream<T> {
    fn drop(&mut self) {
        // Closing the channel tells the streamer to abandon the write.
        self.tx = None;
    }
}

/// The file's last block (for an append that starts a new block): the NameNode needs
/// it as `previous` of the next addBlock.
async fn last_block_of<T: NamenodeTransport>(
    client: &DfsClient<T>,
    src: &str,
    length: u64,
) -> Result<Option<ExtendedBlockProto>, ClientError> {
    if length == 0 {
        return Ok(None);
    }
    let locs = client.get_block_locations(src, length - 1, 1).await?;
    Ok(locs.and_then(|l| {
        l.last_block
            .map(|b| b.b)
            .or_else(|| l.blocks.last().map(|b| b.b.clone()))
    }))
}

/// complete() until it answers true: Hadoop's completeFile backoff (400 ms doubling),
/// bounded by `dfs.client.block.write.locateFollowingBlock.retries`.
pub async fn complete_file<T: NamenodeTransport>(
    client: &DfsClient<T>,
    src: &str,
    file_id: u64,
    last: Option<ExtendedBlockProto>,
) -> Result<(), ClientError> {
    let retries = client.settings().data.locate_following_block_retries;
    let mut delay = Duration::from_millis(400);
    for attempt in 0..=retries {
        if client.complete(src, file_id, last.clone()).await? {
            return Ok(());
        }
        if attempt < retries {
            // Usual for a moment after the last packet (the DataNodes' reports are on
            // their way): not worth a line on the user's terminal.
            tracing::debug!(
                src,
                "complete: the last block is not yet minimally replicated; retrying in {delay:?}"
            );
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(10));
        }
    }
    Err(ClientError::io(format!(
        "Unable to close file because the last block {} does not have enough number of replicas.",
        last.map(|b| format!("{}:blk_{}_{}", b.pool_id, b.block_id, b.generation_stamp))
            .unwrap_or_else(|| "(none)".into())
    )))
}
