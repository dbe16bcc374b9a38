//! fsimage body: the whole namespace as protobuf records (see hafs.proto): one
//! length-delimited ImageHeader, then one length-delimited ImageInode per inode in
//! pre-order (each directory before its children, siblings in name order), so the same
//! tree always gives the same bytes. The caller adds the file framing (magic, txid,
//! checksum).
//!
//! The records are cut into sections of `SECTION_INODES` that the loader decodes on
//! every core at once (Hadoop's parallel image loading, HDFS-14617); one thread then
//! links the decoded inodes into the tree in order. Linking needs no lookups by id:
//! in a pre-order walk a record's parent is always on the stack of open directories,
//! and its previous sibling is the last child its parent got.
//!
//! Loading trusts nothing: every length is bounded by the bytes present, every
//! reference is checked (parents exist, are directories and come first, ids unique,
//! names valid and in order, string indices in range), and anything off is an
//! `ImageError`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;

use bytes::{Buf, Bytes};
use hafs_proto::hafs::{self as pb};
use prost::Message;

use super::error::ImageError;
use super::image_record::ImageRecord;
use super::inode::{
    BlockInfo, Body, IdIndex, Inode, Name, StringTable, NO_SLOT, ROOT_INODE_ID, ROOT_SLOT,
};
use super::plan::to_pb_blocks;
use super::{Namespace, NamespaceConfig, Quota, UnderConstruction};

/// Version of this body layout. (Sections and child counts were added as optional
/// fields: images without them load as one section.)
pub const IMAGE_LAYOUT_VERSION: u32 = 1;

/// Inodes per section: enough that a section's decode dwarfs handing it over, few
/// enough that every core gets work on a namespace of a few hundred thousand inodes.
pub const SECTION_INODES: usize = 32 * 1024;

/// Sections a loader accepts (a bound on hostile headers; 2^20 sections of
/// `SECTION_INODES` is 34 billion inodes).
const MAX_SECTIONS: usize = 1 << 20;

/// Longest user or group name accepted from an image.
const MAX_STRING: usize = 1024;
/// Longest inode name accepted from an image (Hadoop's hard cap on the configurable
/// component limit is far lower; this only bounds hostile input).
const MAX_NAME: usize = 8192;

impl Namespace {
    /// Serialises the namespace (see the module comment).
    pub fn save_image(&self) -> Vec<u8> {
        let live = self.slab.len() - self.free.len();
        let mut records = Vec::with_capacity(64 + live * 48);
        let mut sections = Vec::with_capacity(live / SECTION_INODES + 1);
        let mut section = pb::ImageSection::default();
        let mut stack = vec![ROOT_SLOT];
        // Bounded: every live inode is pushed once, as its parent's child.
        while let Some(slot) = stack.pop() {
            let start = records.len();
            self.image_record(slot)
                .encode_length_delimited(&mut records)
                .ok();
            section.inode_count += 1;
            section.length += (records.len() - start) as u64;
            if section.inode_count as usize == SECTION_INODES {
                sections.push(std::mem::take(&mut section));
            }
            stack.extend(self.node(slot).children().iter().rev());
        }
        if section.inode_count > 0 {
            sections.push(section);
        }
        debug_assert_eq!(
            sections.iter().map(|s| s.inode_count).sum::<u64>(),
            live as u64
        );
        let mut header = pb::ImageHeader {
            layout_version: IMAGE_LAYOUT_VERSION,
            last_inode_id: self.last_inode_id,
            strings: self.strings.names.clone(),
            inode_count: live as u64,
            last_block_id: self.last_block_id,
            gen_stamp: self.gen_stamp,
            sections,
            secret_manager: self.tokens.save_section(),
            ..Default::default()
        };
        self.save_snapshots(&mut header);
        let mut out = Vec::with_capacity(header.encoded_len() + 10 + records.len());
        header.encode_length_delimited(&mut out).ok();
        out.extend_from_slice(&records);
        out
    }

    fn image_record(&self, slot: u32) -> pb::ImageInode {
        let n = self.node(slot);
        let parent_id = if n.parent == NO_SLOT {
            0
        } else {
            self.node(n.parent).id
        };
        pb::ImageInode {
            id: n.id,
            parent_id,
            name: Bytes::copy_from_slice(n.name.as_bytes()),
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
                    truncate_block: uc.truncate_block.as_ref().map(|b| pb::Block {
                        block_id: b.block_id,
                        gen_stamp: b.gen_stamp,
                        num_bytes: b.num_bytes,
                    }),
                }
            }),
            quota: self.quotas.get(&n.id).map(|q| q.to_pb()),
            child_count: n.children().len() as u32,
            acl: self.image_acl(n),
            xattrs: self.image_xattrs(n.id),
            storage_policy: self.image_storage_policy(n.id),
        }
    }

    /// Rebuilds a namespace from `save_image` output.
    pub fn load_image(config: NamespaceConfig, body: &[u8]) -> Result<Namespace, ImageError> {
        let mut buf = body;
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
        // Every record takes at least seven bytes (its length, a non-zero id, and a
        // parent and a name, or the root's directory flag): bound the count, and so
        // every allocation sized by it, by the bytes there.
        if header.inode_count == 0 || header.inode_count > buf.len() as u64 / 7 + 1 {
            return Err(ImageError::Invalid(format!(
                "inode count {} does not fit {} bytes",
                header.inode_count,
                buf.len()
            )));
        }
        let sections = cut_sections(&header, buf)?;
        // Every inode but the root is one directory's child: the child-count hints may
        // reserve that many list slots in all, however many directories claim them.
        let child_slots = AtomicU64::new(header.inode_count - 1);
        let limits = RecordLimits {
            strings: strings.len() as u32,
            last_inode_id: header.last_inode_id,
            child_slots: &child_slots,
        };
        let mut linker = Linker::new(config, strings, &header);
        decode_in_parallel(&sections, limits, |d| linker.link(d))?;
        let mut ns = linker.finish(&header)?;
        ns.recompute_quota_usage();
        ns.tokens = crate::security::DelegationTokens::load_section(header.secret_manager.as_ref())
            .map_err(|e| ImageError::Invalid(e.to_string()))?;
        ns.load_snapshots(&header)?;
        Ok(ns)
    }
}

/// A run of records: its bytes and its inode count.
struct Section<'a> {
    records: &'a [u8],
    count: u64,
}

/// Splits the records after the header into the header's sections (or one section
/// for an image without them), checking they add up.
fn cut_sections<'a>(
    header: &pb::ImageHeader,
    records: &'a [u8],
) -> Result<Vec<Section<'a>>, ImageError> {
    if header.sections.is_empty() {
        return Ok(vec![Section {
            records,
            count: header.inode_count,
        }]);
    }
    if header.sections.len() > MAX_SECTIONS {
        return Err(ImageError::Invalid(format!(
            "{} sections (at most {MAX_SECTIONS})",
            header.sections.len()
        )));
    }
    let mut rest = records;
    let mut out = Vec::with_capacity(header.sections.len());
    let mut count = 0u64;
    for (i, s) in header.sections.iter().enumerate() {
        if s.length > rest.len() as u64 || s.inode_count == 0 || s.inode_count > s.length {
            return Err(ImageError::Invalid(format!(
                "section {i} ({} inodes in {} bytes) does not fit the {} bytes left",
                s.inode_count,
                s.length,
                rest.len()
            )));
        }
        let (records, after) = rest.split_at(s.length as usize);
        out.push(Section {
            records,
            count: s.inode_count,
        });
        rest = after;
        count += s.inode_count;
    }
    if !rest.is_empty() {
        return Err(ImageError::Invalid(format!(
            "{} bytes after the last inode",
            rest.len()
        )));
    }
    if count != header.inode_count {
        return Err(ImageError::Invalid(format!(
            "the sections hold {count} inodes, the header says {}",
            header.inode_count
        )));
    }
    Ok(out)
}

/// What a record is checked against without the tree.
#[derive(Clone, Copy)]
struct RecordLimits<'a> {
    strings: u32,
    last_inode_id: u64,
    /// Child-list slots the directories' hints may still reserve, shared by the
    /// decoders (a hostile image cannot make each directory reserve the whole image).
    child_slots: &'a AtomicU64,
}

impl RecordLimits<'_> {
    /// Takes up to `want` child-list slots from the image's budget.
    fn take_child_slots(&self, want: u64) -> usize {
        let took = self
            .child_slots
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                Some(left - want.min(left))
            })
            .map_or(0, |left| want.min(left));
        took as usize
    }
}

/// One section's inodes, checked record by record but not yet in the tree.
#[derive(Default)]
struct Decoded {
    inodes: Vec<Inode>,
    parent_ids: Vec<u64>,
    under_construction: Vec<(u64, UnderConstruction)>,
    quotas: Vec<(u64, Quota)>,
    acls: Vec<(u64, Vec<super::AclEntry>)>,
    xattrs: Vec<(u64, Box<[super::XAttr]>)>,
    storage_policies: Vec<(u64, u8)>,
    max_block_id: u64,
    max_gen_stamp: u64,
}

/// Decodes `sections` on every core and hands them to `link` one by one, in order,
/// on the calling thread. Stops at the first error (a decode error of an earlier
/// section wins over a later one, as a sequential load would report).
fn decode_in_parallel(
    sections: &[Section],
    limits: RecordLimits,
    mut link: impl FnMut(Decoded) -> Result<(), ImageError>,
) -> Result<(), ImageError> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(sections.len());
    if workers <= 1 {
        for s in sections {
            link(decode_section(s, limits)?)?;
        }
        return Ok(());
    }
    // Workers may run ahead of the linker; what they hold is at most the namespace
    // itself (decoded inodes move into the tree), so memory peaks below twice it.
    let next = AtomicUsize::new(0);
    let total = sections.len();
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<(usize, Result<Decoded, ImageError>)>();
        for _ in 0..workers {
            let tx = tx.clone();
            let next = &next;
            let work = move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(s) = sections.get(i) else {
                    return;
                };
                let r = decode_section(s, limits);
                // The receiver is gone only after an error: stop.
                if tx.send((i, r)).is_err() {
                    return;
                }
            };
            std::thread::Builder::new()
                .name("fsimage-decode".into())
                .spawn_scoped(scope, work)
                .map_err(|e| ImageError::Decode(format!("cannot start an image decoder: {e}")))?;
        }
        drop(tx);
        // Sections arrive in any order; link them in image order.
        let mut waiting: HashMap<usize, Result<Decoded, ImageError>> = HashMap::new();
        let mut want = 0;
        let result = (|| {
            // Bounded: each pass links a section or receives one (at most `total`).
            while want < total {
                let d = match waiting.remove(&want) {
                    Some(d) => d,
                    None => {
                        let (i, d) = rx.recv().map_err(|_| {
                            ImageError::Decode("an image decoder stopped early".into())
                        })?;
                        if i != want {
                            waiting.insert(i, d);
                            continue;
                        }
                        d
                    }
                };
                link(d?)?;
                want += 1;
            }
            Ok(())
        })();
        // On an error, make the workers stop taking sections.
        next.store(total, Ordering::Relaxed);
        drop(rx);
        result
    })
}

/// Decodes one section's records, each checked on its own.
fn decode_section(s: &Section, limits: RecordLimits) -> Result<Decoded, ImageError> {
    let mut d = Decoded {
        inodes: Vec::with_capacity(s.count as usize),
        parent_ids: Vec::with_capacity(s.count as usize),
        ..Decoded::default()
    };
    let mut buf = s.records;
    // One record reused: its block list keeps its capacity between inodes.
    let mut rec = ImageRecord::default();
    for _ in 0..s.count {
        rec.decode_into(take_record(&mut buf, "inode")?)?;
        let inode = check_record(&rec, limits)?;
        for b in inode.blocks() {
            d.max_block_id = d.max_block_id.max(b.block_id);
            d.max_gen_stamp = d.max_gen_stamp.max(b.gen_stamp);
        }
        if let Some(uc) = rec.under_construction.take() {
            if let Some(t) = &uc.truncate_block {
                d.max_gen_stamp = d.max_gen_stamp.max(t.gen_stamp);
            }
            d.under_construction.push((
                rec.id,
                UnderConstruction {
                    client_name: uc.client_name,
                    client_machine: uc.client_machine,
                    truncate_block: uc.truncate_block.map(|b| BlockInfo {
                        block_id: b.block_id,
                        gen_stamp: b.gen_stamp,
                        num_bytes: b.num_bytes,
                    }),
                },
            ));
        }
        if let Some(q) = rec.quota.take() {
            let quota = Quota::from_pb(&q)
                .map_err(|e| ImageError::Invalid(format!("inode {}: {e}", rec.id)))?;
            d.quotas.push((rec.id, quota));
        }
        if let Some(a) = rec.acl.take() {
            let what = format!("inode {}", rec.id);
            let entries = super::acl::entries_from_pb(&a.entries, &what)
                .and_then(|e| super::acl::check_feature(e, rec.is_dir, &what))
                .map_err(ImageError::Invalid)?;
            d.acls.push((rec.id, entries));
        }
        if !rec.xattrs.is_empty() {
            let list = std::mem::take(&mut rec.xattrs)
                .iter()
                .map(super::XAttr::from_pb)
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    ImageError::Invalid(format!("inode {}: xattr namespace unknown", rec.id))
                })?;
            d.xattrs.push((rec.id, list.into_boxed_slice()));
        }
        if let Some(id) =
            Namespace::image_policy_id(rec.id, rec.storage_policy).map_err(ImageError::Invalid)?
        {
            d.storage_policies.push((rec.id, id));
        }
        d.parent_ids.push(rec.parent_id);
        d.inodes.push(inode);
    }
    if !buf.is_empty() {
        return Err(ImageError::Invalid(format!(
            "{} bytes after the last inode of a section",
            buf.len()
        )));
    }
    Ok(d)
}

/// The checks a record passes on its own, and the inode it makes (not yet linked).
fn check_record(rec: &ImageRecord, limits: RecordLimits) -> Result<Inode, ImageError> {
    let bad = |what: &str| ImageError::Invalid(format!("inode {}: {what}", rec.id));
    if rec.owner >= limits.strings || rec.group >= limits.strings {
        return Err(bad("owner or group out of the string table"));
    }
    let perm = u16::try_from(rec.perm)
        .ok()
        .filter(|p| p & !0o1777 == 0)
        .ok_or_else(|| bad("bad permission"))?;
    let replication = u16::try_from(rec.replication).map_err(|_| bad("bad replication"))?;
    if rec.id == 0 || rec.id > limits.last_inode_id {
        return Err(bad("id zero or above last_inode_id"));
    }
    if rec.is_dir && (!rec.blocks.is_empty() || rec.under_construction.is_some()) {
        return Err(bad("directory with blocks or a lease"));
    }
    if !rec.is_dir && (rec.quota.is_some() || rec.child_count != 0) {
        return Err(bad("file with a quota or children"));
    }
    let truncating = rec
        .under_construction
        .as_ref()
        .and_then(|uc| uc.truncate_block.as_ref());
    if let Some(t) = truncating {
        if rec.blocks.last().map(|b| b.block_id) != Some(t.block_id) {
            return Err(bad("truncate block is not the file's last block"));
        }
    }
    let name = rec.name;
    let valid_name = if rec.parent_id == 0 {
        name.is_empty()
    } else {
        !name.is_empty()
            && name.len() <= MAX_NAME
            && name != b"."
            && name != b".."
            && !name.contains(&b'/')
            && !name.contains(&b':')
            && std::str::from_utf8(name).is_ok()
    };
    if !valid_name {
        return Err(bad("invalid name"));
    }
    let body = if rec.is_dir {
        // The hint sizes the list once; all hints together never reserve more slots
        // than the image has inodes.
        Body::Dir(Vec::with_capacity(
            limits.take_child_slots(u64::from(rec.child_count)),
        ))
    } else if rec.blocks.is_empty() {
        Body::File(None)
    } else {
        // A copy of exactly the blocks' size (the record's list is reused).
        Body::File(Some(Box::new(rec.blocks.clone())))
    };
    Ok(Inode {
        id: rec.id,
        mtime: rec.mtime,
        atime: rec.atime,
        block_size: rec.block_size,
        name: Name::new(name),
        body,
        parent: NO_SLOT,
        owner: rec.owner,
        group: rec.group,
        perm,
        replication,
    })
}

/// Puts decoded sections into the tree, in image order, on one thread.
struct Linker {
    ns: Namespace,
    /// Slots of the directories the pre-order walk is inside, innermost last.
    open_dirs: Vec<u32>,
    /// The ids linked so far, when the image's id range is small enough for a bitmap:
    /// then a repeated id is found without reading the slab at every probe of the
    /// index (which made linking four times slower).
    seen_ids: Option<IdBitmap>,
    max_block_id: u64,
    max_gen_stamp: u64,
}

impl Linker {
    fn new(config: NamespaceConfig, strings: StringTable, header: &pb::ImageHeader) -> Linker {
        let count = header.inode_count as usize;
        let seen_ids = IdBitmap::new(header.last_inode_id, header.inode_count);
        let index = IdIndex::with_capacity(count);
        Linker {
            ns: Namespace {
                snapshots: Default::default(),
                config,
                slab: Vec::with_capacity(count),
                free: Vec::new(),
                index,
                strings,
                under_construction: HashMap::new(),
                quotas: HashMap::new(),
                acls: Default::default(),
                xattrs: HashMap::new(),
                storage_policies: HashMap::new(),
                storage_policy_epoch: 1,
                last_inode_id: header.last_inode_id,
                last_block_id: header.last_block_id.max(super::LAST_RESERVED_BLOCK_ID),
                gen_stamp: header.gen_stamp.max(super::LAST_RESERVED_GEN_STAMP),
                files: 0,
                dirs: 0,
                tokens: Default::default(),
            },
            open_dirs: Vec::new(),
            seen_ids,
            max_block_id: 0,
            max_gen_stamp: 0,
        }
    }

    fn link(&mut self, d: Decoded) -> Result<(), ImageError> {
        debug_assert_eq!(d.inodes.len(), d.parent_ids.len());
        self.max_block_id = self.max_block_id.max(d.max_block_id);
        self.max_gen_stamp = self.max_gen_stamp.max(d.max_gen_stamp);
        for (inode, parent_id) in d.inodes.into_iter().zip(d.parent_ids) {
            self.link_one(inode, parent_id)?;
        }
        let ns = &mut self.ns;
        ns.under_construction.extend(d.under_construction);
        ns.quotas.extend(d.quotas);
        for (id, entries) in d.acls {
            ns.load_acl_feature(id, &entries);
        }
        ns.xattrs.extend(d.xattrs);
        ns.storage_policies.extend(d.storage_policies);
        Ok(())
    }

    fn link_one(&mut self, mut inode: Inode, parent_id: u64) -> Result<(), ImageError> {
        let bad = |id: u64, what: &str| ImageError::Invalid(format!("inode {id}: {what}"));
        let ns = &mut self.ns;
        let slot = u32::try_from(ns.slab.len())
            .ok()
            .filter(|&s| s != NO_SLOT)
            .ok_or_else(|| bad(inode.id, "too many inodes"))?;
        if slot == ROOT_SLOT {
            if inode.id != ROOT_INODE_ID || parent_id != 0 || !inode.is_dir() {
                return Err(bad(inode.id, "the first inode is not the root"));
            }
        } else {
            // The parent is an open directory: pop the ones the walk has left. Bounded
            // by the stack's length.
            while let Some(&top) = self.open_dirs.last() {
                if ns.slab[top as usize].id == parent_id {
                    break;
                }
                self.open_dirs.pop();
            }
            let Some(&parent) = self.open_dirs.last() else {
                return Err(bad(
                    inode.id,
                    "parent missing, not a directory, or not before its children",
                ));
            };
            let siblings = ns.slab[parent as usize].children();
            if let Some(&prev) = siblings.last() {
                if ns.slab[prev as usize].name.as_bytes() >= inode.name.as_bytes() {
                    return Err(bad(
                        inode.id,
                        "name repeated or out of order in its directory",
                    ));
                }
            }
            inode.parent = parent;
        }
        let is_dir = inode.is_dir();
        let id = inode.id;
        ns.slab.push(inode);
        let unique = match &mut self.seen_ids {
            Some(seen) => {
                seen.insert(id) && {
                    ns.index.insert(slot, &ns.slab);
                    true
                }
            }
            None => ns.index.insert_new(slot, &ns.slab),
        };
        if !unique {
            return Err(bad(id, "id repeated"));
        }
        if slot != ROOT_SLOT {
            let parent = ns.slab[slot as usize].parent;
            if let Body::Dir(children) = &mut ns.slab[parent as usize].body {
                children.push(slot);
            }
        }
        if is_dir {
            ns.dirs += 1;
            self.open_dirs.push(slot);
        } else {
            ns.files += 1;
        }
        Ok(())
    }

    fn finish(self, header: &pb::ImageHeader) -> Result<Namespace, ImageError> {
        let ns = self.ns;
        if ns.slab.len() as u64 != header.inode_count {
            return Err(ImageError::Invalid(format!(
                "{} inodes loaded, the header says {}",
                ns.slab.len(),
                header.inode_count
            )));
        }
        if self.max_block_id > ns.last_block_id || self.max_gen_stamp > ns.gen_stamp {
            return Err(ImageError::Invalid(
                "a block id or generation stamp exceeds the image's counters".into(),
            ));
        }
        Ok(ns)
    }
}

/// A bit per inode id from the root's up to the image's last id.
struct IdBitmap {
    words: Vec<u64>,
}

impl IdBitmap {
    /// Ids per inode above which the bitmap costs more memory than it saves time
    /// (64 ids per inode: one word per inode).
    const MAX_SPREAD: u64 = 64;

    fn new(last_inode_id: u64, inodes: u64) -> Option<IdBitmap> {
        let span = last_inode_id.checked_sub(ROOT_INODE_ID)? + 1;
        if span > inodes.saturating_mul(Self::MAX_SPREAD).max(1 << 16) {
            return None;
        }
        Some(IdBitmap {
            words: vec![0; span.div_ceil(64) as usize],
        })
    }

    /// Marks `id`; false if it was marked or is below the root's id. (Ids above the
    /// last id were refused when the record was decoded.)
    fn insert(&mut self, id: u64) -> bool {
        let Some(bit) = id.checked_sub(ROOT_INODE_ID) else {
            return false;
        };
        let Some(word) = self.words.get_mut((bit / 64) as usize) else {
            return false;
        };
        let mask = 1u64 << (bit % 64);
        let fresh = *word & mask == 0;
        *word |= mask;
        fresh
    }
}

/// Reads one varint-length-prefixed message.
fn next_record<M: Message + Default>(buf: &mut &[u8], what: &'static str) -> Result<M, ImageError> {
    M::decode(take_record(buf, what)?).map_err(|e| ImageError::Decode(format!("{what}: {e}")))
}

/// One varint-length-prefixed record's bytes, its length bounded by the bytes left.
fn take_record<'a>(buf: &mut &'a [u8], what: &'static str) -> Result<&'a [u8], ImageError> {
    if buf.is_empty() {
        return Err(ImageError::Truncated(what));
    }
    let len = prost::encoding::decode_varint(buf).map_err(|e| ImageError::Decode(e.to_string()))?;
    if len > buf.remaining() as u64 {
        return Err(ImageError::Truncated(what));
    }
    let (rec, rest) = buf.split_at(len as usize);
    *buf = rest;
    Ok(rec)
}
