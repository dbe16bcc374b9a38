//! fsimage body: the whole namespace as protobuf records (see hafs.proto): one
//! length-delimited ImageHeader, then one length-delimited ImageInode per inode,
//! parents before children and siblings in name order, so the same tree always gives
//! the same bytes. The caller adds the file framing (magic, txid, checksum).
//!
//! Loading trusts nothing: every length is bounded by the bytes present, every
//! reference is checked (parents exist and are directories, ids unique, names valid,
//! string indices in range), and anything off is an `ImageError`.

use std::collections::HashMap;

use bytes::Buf;
use hafs_proto::hafs::{self as pb};
use prost::Message;

use super::apply::from_pb_blocks;
use super::error::ImageError;
use super::inode::{Body, IdIndex, Inode, Name, StringTable, NO_SLOT, ROOT_INODE_ID, ROOT_SLOT};
use super::plan::to_pb_blocks;
use super::{Namespace, NamespaceConfig, Quota, UnderConstruction};

/// Version of this body layout.
pub const IMAGE_LAYOUT_VERSION: u32 = 1;

/// Longest user or group name accepted from an image.
const MAX_STRING: usize = 1024;
/// Longest inode name accepted from an image (Hadoop's hard cap on the configurable
/// component limit is far lower; this only bounds hostile input).
const MAX_NAME: usize = 8192;

impl Namespace {
    /// Serialises the namespace (see the module comment).
    pub fn save_image(&self) -> Vec<u8> {
        let live = self.slab.len() - self.free.len();
        let header = pb::ImageHeader {
            layout_version: IMAGE_LAYOUT_VERSION,
            last_inode_id: self.last_inode_id,
            strings: self.strings.names.clone(),
            inode_count: live as u64,
            last_block_id: self.last_block_id,
            gen_stamp: self.gen_stamp,
        };
        let mut out = Vec::with_capacity(64 + live * 48);
        header.encode_length_delimited(&mut out).ok();
        let mut stack = vec![ROOT_SLOT];
        while let Some(slot) = stack.pop() {
            let n = self.node(slot);
            let parent_id = if n.parent == NO_SLOT {
                0
            } else {
                self.node(n.parent).id
            };
            let rec = pb::ImageInode {
                id: n.id,
                parent_id,
                name: bytes::Bytes::copy_from_slice(n.name.as_bytes()),
                is_dir: n.is_dir(),
                perm: u32::from(n.perm),
                owner: n.owner,
                group: n.group,
                mtime: n.mtime,
                atime: n.atime,
                replication: u32::from(n.replication),
                block_size: n.block_size,
                blocks: to_pb_blocks(n.blocks()),
                under_construction: self.under_construction.get(&n.id).map(|uc| {
                    pb::UnderConstruction {
                        client_name: uc.client_name.clone(),
                        client_machine: uc.client_machine.clone(),
                    }
                }),
                quota: self.quotas.get(&n.id).map(|q| pb::Quota {
                    ns_quota: q.ns_quota,
                    ds_quota: q.ds_quota,
                }),
            };
            rec.encode_length_delimited(&mut out).ok();
            stack.extend(n.children().iter().rev());
        }
        out
    }

    /// Rebuilds a namespace from `save_image` output.
    pub fn load_image(config: NamespaceConfig, mut buf: &[u8]) -> Result<Namespace, ImageError> {
        let header: pb::ImageHeader = next_record(&mut buf, "header")?;
        if header.layout_version != IMAGE_LAYOUT_VERSION {
            return Err(ImageError::Invalid(format!(
                "unsupported layout version {}",
                header.layout_version
            )));
        }
        let mut strings = StringTable::default();
        for (i, s) in header.strings.iter().enumerate() {
            if s.len() > MAX_STRING || strings.intern(s) as usize != i {
                return Err(ImageError::Invalid(format!("bad string table entry {i}")));
            }
        }
        // Every record takes at least two bytes: bound the count by what is there.
        if header.inode_count == 0 || header.inode_count > buf.len() as u64 / 2 + 1 {
            return Err(ImageError::Invalid(format!(
                "inode count {} does not fit {} bytes",
                header.inode_count,
                buf.len()
            )));
        }
        let mut ns = Namespace {
            config,
            slab: Vec::with_capacity(header.inode_count as usize),
            free: Vec::new(),
            index: IdIndex::default(),
            strings,
            under_construction: HashMap::new(),
            quotas: HashMap::new(),
            last_inode_id: header.last_inode_id,
            last_block_id: header.last_block_id.max(super::LAST_RESERVED_BLOCK_ID),
            gen_stamp: header.gen_stamp.max(super::LAST_RESERVED_GEN_STAMP),
            files: 0,
            dirs: 0,
        };
        for i in 0..header.inode_count {
            let rec: pb::ImageInode = next_record(&mut buf, "inode")?;
            ns.load_inode(rec, i == 0)?;
        }
        if !buf.is_empty() {
            return Err(ImageError::Invalid(format!(
                "{} bytes after the last inode",
                buf.len()
            )));
        }
        let (block_id, gen_stamp) = (ns.last_block_id, ns.gen_stamp);
        let blocks: Vec<_> = ns.slab.iter().flat_map(|n| n.blocks().to_vec()).collect();
        ns.note_blocks(&blocks);
        if (ns.last_block_id, ns.gen_stamp) != (block_id, gen_stamp) {
            return Err(ImageError::Invalid(
                "a block id or generation stamp exceeds the image's counters".into(),
            ));
        }
        if ns.last_inode_id != header.last_inode_id {
            return Err(ImageError::Invalid(
                "an inode id exceeds last_inode_id".into(),
            ));
        }
        Ok(ns)
    }

    fn load_inode(&mut self, rec: pb::ImageInode, is_root: bool) -> Result<(), ImageError> {
        let bad = |what: &str| ImageError::Invalid(format!("inode {}: {what}", rec.id));
        let strings = self.strings.len() as u32;
        if rec.owner >= strings || rec.group >= strings {
            return Err(bad("owner or group out of the string table"));
        }
        let perm = u16::try_from(rec.perm)
            .ok()
            .filter(|p| p & !0o1777 == 0)
            .ok_or_else(|| bad("bad permission"))?;
        let replication = u16::try_from(rec.replication).map_err(|_| bad("bad replication"))?;
        if rec.id == 0
            || rec.id > self.last_inode_id
            || self.index.get(rec.id, &self.slab).is_some()
        {
            return Err(bad("id zero, above last_inode_id, or repeated"));
        }
        if rec.is_dir && (!rec.blocks.is_empty() || rec.under_construction.is_some()) {
            return Err(bad("directory with blocks or a lease"));
        }
        if !rec.is_dir && rec.quota.is_some() {
            return Err(bad("file with a quota"));
        }
        let body = if rec.is_dir {
            Body::Dir(Vec::new())
        } else if rec.blocks.is_empty() {
            Body::File(None)
        } else {
            Body::File(Some(Box::new(from_pb_blocks(&rec.blocks))))
        };
        let inode = Inode {
            id: rec.id,
            mtime: rec.mtime,
            atime: rec.atime,
            block_size: rec.block_size,
            name: Name::new(&rec.name),
            body,
            parent: NO_SLOT,
            owner: rec.owner,
            group: rec.group,
            perm,
            replication,
        };
        if is_root {
            if rec.id != ROOT_INODE_ID || rec.parent_id != 0 || !rec.is_dir || !rec.name.is_empty()
            {
                return Err(bad("the first inode is not the root"));
            }
            self.slab.push(inode);
            self.index.insert(ROOT_SLOT, &self.slab);
            self.dirs = 1;
        } else {
            let name = &rec.name[..];
            let valid = !name.is_empty()
                && name.len() <= MAX_NAME
                && name != b"."
                && name != b".."
                && !name.contains(&b'/')
                && !name.contains(&b':')
                && std::str::from_utf8(name).is_ok();
            if !valid {
                return Err(bad("invalid name"));
            }
            // Parents come first, so the parent is already in the tree and the result
            // stays a tree (no cycles).
            let parent = self
                .index
                .get(rec.parent_id, &self.slab)
                .filter(|&p| self.node(p).is_dir())
                .ok_or_else(|| bad("parent missing or not a directory"))?;
            if self.child(parent, name).is_some() {
                return Err(bad("duplicate name in its directory"));
            }
            let last = self.last_inode_id;
            self.add_child(parent, inode);
            self.last_inode_id = last;
        }
        if let Some(uc) = rec.under_construction {
            self.under_construction.insert(
                rec.id,
                UnderConstruction {
                    client_name: uc.client_name,
                    client_machine: uc.client_machine,
                },
            );
        }
        if let Some(q) = rec.quota {
            self.quotas.insert(
                rec.id,
                Quota {
                    ns_quota: q.ns_quota,
                    ds_quota: q.ds_quota,
                },
            );
        }
        Ok(())
    }
}

/// Reads one varint-length-prefixed record, its length bounded by the bytes left.
fn next_record<M: Message + Default>(buf: &mut &[u8], what: &'static str) -> Result<M, ImageError> {
    if buf.is_empty() {
        return Err(ImageError::Truncated(what));
    }
    let len = prost::encoding::decode_varint(buf).map_err(|e| ImageError::Decode(e.to_string()))?;
    if len > buf.remaining() as u64 {
        return Err(ImageError::Truncated(what));
    }
    let (rec, rest) = buf.split_at(len as usize);
    *buf = rest;
    M::decode(rec).map_err(|e| ImageError::Decode(format!("{what}: {e}")))
}
