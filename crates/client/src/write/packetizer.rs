//! Cutting a stream of bytes into packets, the way Hadoop's DFSOutputStream does.
//!
//! A packet carries whole checksum chunks starting at a chunk boundary of the block,
//! at most `chunks_per_packet` of them, and never crosses the end of a block. When a
//! block is full an empty "last packet in block" follows. Two irregular cases follow
//! Hadoop exactly, because DataNodes expect them:
//! - after an hflush that left a partial chunk, the partial chunk is kept and re-sent
//!   (grown) in the next packet from the same chunk-aligned offset;
//! - an append to a block ending in a partial chunk first sends one packet holding
//!   just enough bytes to fill that chunk (its checksum covers only the new bytes).
//!
//! Pure: no IO; the output stream hands the packets to the streamer task.

use bytes::Bytes;

/// Hadoop's `PacketHeader.PKT_MAX_HEADER_LEN`: payload length (4) + header length (2)
/// + the largest encoded PacketHeaderProto (27 bytes).
pub const PKT_MAX_HEADER_LEN: usize = 33;
/// Size of one CRC32C on the wire.
pub const CHECKSUM_SIZE: usize = 4;

/// One packet ready to be checksummed and sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutPacket {
    pub seqno: i64,
    pub offset_in_block: u64,
    pub data: Bytes,
    pub last_in_block: bool,
    /// hsync: the DataNodes fsync the replica when they write this packet.
    pub sync: bool,
}

impl OutPacket {
    /// The block length once this packet is stored.
    pub fn end_offset(&self) -> u64 {
        self.offset_in_block + self.data.len() as u64
    }
}

/// How many chunks fit in a packet of `packet_size` bytes (Hadoop's
/// `computePacketChunkSize`): at least one.
pub fn chunks_per_packet(packet_size: u32, bytes_per_checksum: u32) -> usize {
    let body = (packet_size as usize).saturating_sub(PKT_MAX_HEADER_LEN);
    let chunk = bytes_per_checksum as usize + CHECKSUM_SIZE;
    (body / chunk).max(1)
}

/// The packetizer of one file being written.
#[derive(Debug)]
pub struct Packetizer {
    block_size: u64,
    bytes_per_checksum: usize,
    chunks_per_packet: usize,
    /// Offset in the current block of the first byte of `pending`.
    bytes_cur_block: u64,
    /// Bytes written by the user and not yet cut into a packet (or kept for re-send
    /// after an hflush with a partial chunk).
    pending: Vec<u8>,
    /// Set after an append to a partial chunk: the first packet holds exactly this many
    /// bytes (what fills the chunk).
    append_chunk_free: Option<usize>,
    /// Bytes in `pending` already sent by an hflush (a kept partial chunk).
    flushed_prefix: usize,
    next_seqno: i64,
    /// Whether the current block has had any packet yet (a block exists to close).
    block_started: bool,
}

impl Packetizer {
    /// A packetizer for a new file, or for an append continuing a block of
    /// `last_block_len` bytes (0 when the append starts a new block).
    pub fn new(
        block_size: u64,
        bytes_per_checksum: u32,
        packet_size: u32,
        last_block_len: u64,
    ) -> Packetizer {
        let bpc = bytes_per_checksum.max(1) as usize;
        let used_in_chunk = (last_block_len % bpc as u64) as usize;
        Packetizer {
            block_size,
            bytes_per_checksum: bpc,
            chunks_per_packet: chunks_per_packet(packet_size, bytes_per_checksum),
            bytes_cur_block: last_block_len,
            pending: Vec::new(),
            append_chunk_free: (used_in_chunk > 0).then(|| bpc - used_in_chunk),
            flushed_prefix: 0,
            next_seqno: 0,
            block_started: last_block_len > 0,
        }
    }

    /// The number of data bytes a full packet carries.
    pub fn packet_data_capacity(&self) -> usize {
        self.chunks_per_packet * self.bytes_per_checksum
    }

    /// Offset in the current block where the next packet starts.
    pub fn bytes_cur_block(&self) -> u64 {
        self.bytes_cur_block
    }

    /// Whether the stream holds bytes not yet sent in any packet.
    pub fn has_unsent(&self) -> bool {
        self.pending.len() > self.flushed_prefix
    }

    /// The size of the next packet (how many pending bytes it needs).
    fn next_cap(&self) -> usize {
        if let Some(free) = self.append_chunk_free {
            return free;
        }
        let room = self.block_size.saturating_sub(self.bytes_cur_block);
        (self.packet_data_capacity() as u64).min(room) as usize
    }

    fn seqno(&mut self) -> i64 {
        let s = self.next_seqno;
        self.next_seqno += 1;
        s
    }

    /// Emits a packet of the first `len` pending bytes and advances past them.
    fn cut(&mut self, len: usize, sync: bool, out: &mut Vec<OutPacket>) {
        let data = Bytes::copy_from_slice(&self.pending[..len]);
        self.pending.drain(..len);
        self.flushed_prefix = 0;
        let seqno = self.seqno();
        out.push(OutPacket {
            seqno,
            offset_in_block: self.bytes_cur_block,
            data,
            last_in_block: false,
            sync,
        });
        self.block_started = true;
        self.bytes_cur_block += len as u64;
        self.append_chunk_free = None;
        if self.bytes_cur_block >= self.block_size {
            self.end_block(false, out);
        }
    }

    /// The empty packet that closes the current block.
    fn end_block(&mut self, sync: bool, out: &mut Vec<OutPacket>) {
        let seqno = self.seqno();
        out.push(OutPacket {
            seqno,
            offset_in_block: self.bytes_cur_block,
            data: Bytes::new(),
            last_in_block: true,
            sync,
        });
        self.bytes_cur_block = 0;
        self.block_started = false;
        self.append_chunk_free = None;
    }

    /// Adds user bytes; returns the packets that became full.
    pub fn write(&mut self, data: &[u8]) -> Vec<OutPacket> {
        let mut out = Vec::new();
        self.pending.extend_from_slice(data);
        loop {
            let cap = self.next_cap();
            if cap == 0 || self.pending.len() < cap {
                break;
            }
            self.cut(cap, false, &mut out);
        }
        out
    }

    /// hflush/hsync: sends every pending byte. A trailing partial chunk is kept and
    /// re-sent by the next packet (Hadoop's behaviour). With `sync` and nothing new to
    /// send, an empty packet still carries the sync request.
    pub fn flush(&mut self, sync: bool) -> Vec<OutPacket> {
        let mut out = Vec::new();
        if !self.has_unsent() {
            if sync && self.block_started {
                let seqno = self.seqno();
                out.push(OutPacket {
                    seqno,
                    offset_in_block: self.bytes_cur_block + self.pending.len() as u64,
                    data: Bytes::new(),
                    last_in_block: false,
                    sync: true,
                });
            }
            return out;
        }
        let len = self.pending.len();
        let data = Bytes::copy_from_slice(&self.pending);
        let seqno = self.seqno();
        out.push(OutPacket {
            seqno,
            offset_in_block: self.bytes_cur_block,
            data,
            last_in_block: false,
            sync,
        });
        self.block_started = true;
        // Keep what does not end on a chunk boundary; it goes again with the next packet.
        let keep = match self.append_chunk_free {
            // The append chunk is still not full: keep all of it, same offset.
            Some(free) if len < free => len,
            _ => ((self.bytes_cur_block + len as u64) % self.bytes_per_checksum as u64) as usize,
        };
        let advance = len - keep;
        self.pending.drain(..advance);
        self.bytes_cur_block += advance as u64;
        if advance > 0 {
            self.append_chunk_free = None;
        }
        self.flushed_prefix = self.pending.len();
        if self.bytes_cur_block >= self.block_size {
            self.end_block(false, &mut out);
        }
        out
    }

    /// close: the remaining bytes and the last packet of the current block. Nothing
    /// when no block is open (an empty file, or the last block ended exactly full).
    pub fn close(&mut self) -> Vec<OutPacket> {
        let mut out = Vec::new();
        if self.has_unsent() || !self.pending.is_empty() {
            // A kept partial chunk was already sent by hflush; send the full chunk
            // anyway (same bytes) so the last packet's offset is the block's length.
            let len = self.pending.len();
            let data = Bytes::copy_from_slice(&self.pending);
            let seqno = self.seqno();
            out.push(OutPacket {
                seqno,
                offset_in_block: self.bytes_cur_block,
                data,
                last_in_block: false,
                sync: false,
            });
            self.pending.clear();
            self.flushed_prefix = 0;
            self.bytes_cur_block += len as u64;
            self.block_started = true;
        }
        if self.block_started {
            self.end_block(false, &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(p: &[OutPacket]) -> Vec<(u64, usize, bool)> {
        p.iter()
            .map(|p| (p.offset_in_block, p.data.len(), p.last_in_block))
            .collect()
    }

    #[test]
    fn default_packet_holds_126_chunks_like_hadoop() {
        assert_eq!(chunks_per_packet(64 * 1024, 512), 126);
        assert_eq!(chunks_per_packet(100, 512), 1);
    }

    #[test]
    fn full_packets_then_block_end_then_next_block() {
        // 4 chunks of 16 bytes per block, 2 chunks per packet.
        let mut p = Packetizer::new(64, 16, (PKT_MAX_HEADER_LEN + 2 * 20) as u32, 0);
        assert_eq!(p.packet_data_capacity(), 32);
        let data: Vec<u8> = (0..100u8).collect();
        let out = p.write(&data);
        assert_eq!(
            sizes(&out),
            vec![
                (0, 32, false),
                (32, 32, false),
                (64, 0, true),
                (0, 32, false)
            ]
        );
        assert_eq!(
            out.iter().map(|p| p.seqno).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
        assert_eq!(&out[3].data[..], &data[64..96]);
        let out = p.close();
        assert_eq!(sizes(&out), vec![(32, 4, false), (36, 0, true)]);
        assert_eq!(&out[0].data[..], &data[96..]);
    }

    #[test]
    fn close_after_exact_block_end_sends_nothing() {
        let mut p = Packetizer::new(32, 16, (PKT_MAX_HEADER_LEN + 2 * 20) as u32, 0);
        let out = p.write(&[7; 32]);
        assert_eq!(sizes(&out), vec![(0, 32, false), (32, 0, true)]);
        assert!(p.close().is_empty());
        let mut empty = Packetizer::new(32, 16, 1000, 0);
        assert!(
            empty.close().is_empty(),
            "an empty file has no block to close"
        );
    }

    #[test]
    fn hflush_keeps_partial_chunk_and_resends_it() {
        let mut p = Packetizer::new(1024, 16, 1000, 0);
        assert!(p.write(&[1; 20]).is_empty());
        let out = p.flush(false);
        assert_eq!(sizes(&out), vec![(0, 20, false)]);
        // 16 bytes advanced; 4 kept and re-sent from offset 16.
        assert_eq!(p.bytes_cur_block(), 16);
        assert!(p.flush(false).is_empty(), "nothing new: no packet");
        p.write(&[2; 3]);
        let out = p.flush(true);
        assert_eq!(sizes(&out), vec![(16, 7, false)]);
        assert!(out[0].sync);
        assert_eq!(&out[0].data[..], &[1, 1, 1, 1, 2, 2, 2]);
        let out = p.close();
        assert_eq!(sizes(&out), vec![(16, 7, false), (23, 0, true)]);
    }

    #[test]
    fn hsync_without_new_data_sends_empty_sync_packet() {
        let mut p = Packetizer::new(1024, 16, 1000, 0);
        p.write(&[1; 16]);
        p.flush(false);
        let out = p.flush(true);
        assert_eq!(sizes(&out), vec![(16, 0, false)]);
        assert!(out[0].sync && !out[0].last_in_block);
    }

    #[test]
    fn append_to_partial_chunk_first_fills_the_chunk() {
        // The block has 20 bytes: 4 used in the second 16-byte chunk, 12 free.
        let mut p = Packetizer::new(1024, 16, (PKT_MAX_HEADER_LEN + 2 * 20) as u32, 20);
        let out = p.write(&[9; 50]);
        assert_eq!(sizes(&out), vec![(20, 12, false), (32, 32, false)]);
        let out = p.close();
        assert_eq!(sizes(&out), vec![(64, 6, false), (70, 0, true)]);
    }

    #[test]
    fn append_partial_chunk_flushed_before_it_fills() {
        let mut p = Packetizer::new(1024, 16, 1000, 20);
        p.write(&[9; 5]);
        let out = p.flush(false);
        assert_eq!(sizes(&out), vec![(20, 5, false)]);
        assert_eq!(p.bytes_cur_block(), 20, "the append chunk is resent whole");
        let out = p.write(&[8; 7]);
        assert_eq!(sizes(&out), vec![(20, 12, false)]);
        assert_eq!(p.bytes_cur_block(), 32);
    }

    #[test]
    fn append_to_block_end_closes_nothing_until_data() {
        let mut p = Packetizer::new(1024, 16, 1000, 32);
        // Aligned: no special first packet.
        let out = p.write(&[1; 16]);
        assert!(out.is_empty());
        let out = p.close();
        assert_eq!(sizes(&out), vec![(32, 16, false), (48, 0, true)]);
    }
}
