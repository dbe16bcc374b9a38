//! A direct decoder for the fsimage's `ImageInode` record (hafs.proto), used by the
//! image loader instead of prost's generated one: it reads the name in place and the
//! blocks straight into the in-memory form, so loading an inode allocates only what
//! the inode keeps. (prost's decoder gave every record a reference-counted slice of
//! the image for its name, and the decode threads then fought over that one count.)
//! It accepts exactly what prost accepts for this message: fields in any order, the
//! last of a repeated scalar wins, unknown fields skipped, and it refuses wrong wire
//! types, truncation and overlong varints.

use bytes::Buf;
use hafs_proto::hafs as pb;
use prost::Message;

use super::error::ImageError;
use super::inode::BlockInfo;

/// One decoded `ImageInode`, its name borrowed from the image.
#[derive(Debug, Default)]
pub(super) struct ImageRecord<'a> {
    pub id: u64,
    pub parent_id: u64,
    pub name: &'a [u8],
    pub is_dir: bool,
    pub perm: u32,
    pub owner: u32,
    pub group: u32,
    pub mtime: i64,
    pub atime: i64,
    pub replication: u32,
    pub block_size: u64,
    pub blocks: Vec<BlockInfo>,
    pub under_construction: Option<pb::UnderConstruction>,
    pub quota: Option<pb::Quota>,
    pub child_count: u32,
    pub acl: Option<pb::ImageAcl>,
    pub xattrs: Vec<pb::XAttrEntry>,
    pub storage_policy: u32,
}

const VARINT: u64 = 0;
const FIXED64: u64 = 1;
const LEN: u64 = 2;
const FIXED32: u64 = 5;

fn decode_err(what: &str) -> ImageError {
    ImageError::Decode(format!("inode: {what}"))
}

fn varint(buf: &mut &[u8]) -> Result<u64, ImageError> {
    prost::encoding::decode_varint(buf).map_err(|e| ImageError::Decode(format!("inode: {e}")))
}

/// A length-delimited field's bytes, bounded by what is left.
fn len_field<'a>(buf: &mut &'a [u8]) -> Result<&'a [u8], ImageError> {
    let len = varint(buf)?;
    if len > buf.len() as u64 {
        return Err(decode_err("a field runs past its record"));
    }
    let (field, rest) = buf.split_at(len as usize);
    *buf = rest;
    Ok(field)
}

fn skip(buf: &mut &[u8], wire: u64) -> Result<(), ImageError> {
    let n = match wire {
        VARINT => {
            varint(buf)?;
            return Ok(());
        }
        FIXED64 => 8,
        LEN => {
            len_field(buf)?;
            return Ok(());
        }
        FIXED32 => 4,
        _ => return Err(decode_err(&format!("unsupported wire type {wire}"))),
    };
    if buf.len() < n {
        return Err(decode_err("a field runs past its record"));
    }
    buf.advance(n);
    Ok(())
}

impl<'a> ImageRecord<'a> {
    /// Decodes one record (the bytes of one length-delimited `ImageInode`), reusing
    /// this record's block list.
    pub fn decode_into(&mut self, mut buf: &'a [u8]) -> Result<(), ImageError> {
        let mut blocks = std::mem::take(&mut self.blocks);
        blocks.clear();
        *self = ImageRecord {
            blocks,
            ..ImageRecord::default()
        };
        // Bounded: every pass consumes at least the key's byte.
        while !buf.is_empty() {
            let key = varint(&mut buf)?;
            let (field, wire) = (key >> 3, key & 7);
            if field == 0 || field > u64::from(u32::MAX >> 3) {
                return Err(decode_err(&format!("invalid field number {field}")));
            }
            let expect = |want: u64| {
                if wire == want {
                    Ok(())
                } else {
                    Err(decode_err(&format!(
                        "field {field} has wire type {wire}, expected {want}"
                    )))
                }
            };
            match field {
                1..=2 | 4..=11 | 15 | 25 => {
                    expect(VARINT)?;
                    let v = varint(&mut buf)?;
                    match field {
                        1 => self.id = v,
                        2 => self.parent_id = v,
                        4 => self.is_dir = v != 0,
                        5 => self.perm = v as u32,
                        6 => self.owner = v as u32,
                        7 => self.group = v as u32,
                        8 => self.mtime = v as i64,
                        9 => self.atime = v as i64,
                        10 => self.replication = v as u32,
                        11 => self.block_size = v,
                        25 => self.storage_policy = v as u32,
                        _ => self.child_count = v as u32,
                    }
                }
                3 => {
                    expect(LEN)?;
                    self.name = len_field(&mut buf)?;
                }
                12 => {
                    expect(LEN)?;
                    let b = pb::Block::decode(len_field(&mut buf)?)
                        .map_err(|e| decode_err(&format!("block: {e}")))?;
                    self.blocks.push(BlockInfo {
                        block_id: b.block_id,
                        gen_stamp: b.gen_stamp,
                        num_bytes: b.num_bytes,
                    });
                }
                13 => {
                    expect(LEN)?;
                    // Repeated message fields merge, as prost does.
                    let uc = self.under_construction.get_or_insert_with(Default::default);
                    uc.merge(len_field(&mut buf)?)
                        .map_err(|e| decode_err(&format!("under construction: {e}")))?;
                }
                14 => {
                    expect(LEN)?;
                    let q = self.quota.get_or_insert_with(Default::default);
                    q.merge(len_field(&mut buf)?)
                        .map_err(|e| decode_err(&format!("quota: {e}")))?;
                }
                16 => {
                    expect(LEN)?;
                    let a = self.acl.get_or_insert_with(Default::default);
                    a.merge(len_field(&mut buf)?)
                        .map_err(|e| decode_err(&format!("acl: {e}")))?;
                }
                17 => {
                    expect(LEN)?;
                    let x = pb::XAttrEntry::decode(len_field(&mut buf)?)
                        .map_err(|e| decode_err(&format!("xattr: {e}")))?;
                    self.xattrs.push(x);
                }
                _ => skip(&mut buf, wire)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> pb::ImageInode {
        pb::ImageInode {
            id: 16390,
            parent_id: 16385,
            name: bytes::Bytes::from_static(b"part-00000"),
            is_dir: false,
            perm: 0o644,
            owner: 1,
            group: 2,
            mtime: 1_700_000_000_123,
            atime: -5,
            replication: 3,
            block_size: 128 << 20,
            blocks: vec![
                pb::Block {
                    block_id: 1 << 30,
                    gen_stamp: 1001,
                    num_bytes: 77,
                },
                pb::Block {
                    block_id: (1 << 30) + 1,
                    gen_stamp: 1002,
                    num_bytes: 0,
                },
            ],
            under_construction: Some(pb::UnderConstruction {
                client_name: "DFSClient_1".into(),
                client_machine: "127.0.0.1".into(),
                truncate_block: None,
            }),
            quota: Some(pb::Quota {
                ns_quota: 10,
                ds_quota: -1,
                type_quotas: vec![pb::StorageTypeQuota {
                    storage_type: 2,
                    quota: 1 << 30,
                }],
            }),
            child_count: 0,
            acl: Some(pb::ImageAcl {
                entries: vec![pb::AclEntry {
                    scope: 0,
                    r#type: 1,
                    perm: 5,
                    name: "eng".into(),
                }],
            }),
            xattrs: vec![
                pb::XAttrEntry {
                    namespace: 0,
                    name: "color".into(),
                    value: Some(bytes::Bytes::from_static(&[0, 255])),
                },
                pb::XAttrEntry {
                    namespace: 1,
                    name: "flag".into(),
                    value: None,
                },
            ],
            storage_policy: 12,
        }
    }

    fn same(rec: &ImageRecord, m: &pb::ImageInode) {
        assert_eq!(rec.id, m.id);
        assert_eq!(rec.parent_id, m.parent_id);
        assert_eq!(rec.name, &m.name[..]);
        assert_eq!(rec.is_dir, m.is_dir);
        assert_eq!((rec.perm, rec.owner, rec.group), (m.perm, m.owner, m.group));
        assert_eq!((rec.mtime, rec.atime), (m.mtime, m.atime));
        assert_eq!(
            (rec.replication, rec.block_size),
            (m.replication, m.block_size)
        );
        let blocks: Vec<_> = m
            .blocks
            .iter()
            .map(|b| BlockInfo {
                block_id: b.block_id,
                gen_stamp: b.gen_stamp,
                num_bytes: b.num_bytes,
            })
            .collect();
        assert_eq!(rec.blocks, blocks);
        assert_eq!(rec.under_construction, m.under_construction);
        assert_eq!(rec.quota, m.quota);
        assert_eq!(rec.child_count, m.child_count);
        assert_eq!(rec.acl, m.acl);
        assert_eq!(rec.xattrs, m.xattrs);
        assert_eq!(rec.storage_policy, m.storage_policy);
    }

    #[test]
    fn decodes_what_prost_encodes() {
        let m = full();
        let bytes = m.encode_to_vec();
        let mut rec = ImageRecord::default();
        rec.decode_into(&bytes).unwrap();
        same(&rec, &m);
        // Reused for a directory: nothing of the file stays.
        let dir = pb::ImageInode {
            id: 16386,
            parent_id: 16385,
            name: bytes::Bytes::from_static(b"d"),
            is_dir: true,
            perm: 0o755,
            child_count: 7,
            ..Default::default()
        };
        let bytes = dir.encode_to_vec();
        rec.decode_into(&bytes).unwrap();
        same(&rec, &dir);
    }

    #[test]
    fn agrees_with_prost_on_every_cut_and_bit_flip() {
        let bytes = full().encode_to_vec();
        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut cases: Vec<Vec<u8>> = (0..bytes.len()).map(|c| bytes[..c].to_vec()).collect();
        for _ in 0..5000 {
            let mut b = bytes.clone();
            for _ in 0..1 + next() % 3 {
                let i = (next() % b.len() as u64) as usize;
                b[i] ^= 1 << (next() % 8);
            }
            cases.push(b);
        }
        for b in &cases {
            let mut rec = ImageRecord::default();
            let ours = rec.decode_into(b);
            match pb::ImageInode::decode(&b[..]) {
                Ok(m) => {
                    if let Err(e) = ours {
                        panic!("prost decodes {b:?}, we refuse: {e}");
                    }
                    same(&rec, &m);
                }
                Err(_) => assert!(ours.is_err(), "prost refuses {b:?}, we accept it"),
            }
        }
    }
}
