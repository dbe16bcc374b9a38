//! The compact in-memory inode records (Hadoop's INodeFile / INodeDirectory) and the
//! small tables around them: interned user/group names and the inode-id index.
//!
//! Inodes live in one slab (`Vec<Inode>`) addressed by a `u32` slot; parents and
//! children refer to each other by slot, so a child-list entry costs 4 bytes.

/// Hadoop's INodeId.ROOT_INODE_ID (= INodeId.LAST_RESERVED_ID + 1 = 2^14 + 1): the root
/// directory's id; the first user-created inode gets the next id.
pub const ROOT_INODE_ID: u64 = 16385;

/// Slot of the root directory in the slab.
pub const ROOT_SLOT: u32 = 0;

/// Marks "no slot" (the root's parent, a free slab entry).
pub const NO_SLOT: u32 = u32::MAX;

/// A file's block: Hadoop's (blockId, generationStamp, numBytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlockInfo {
    pub block_id: u64,
    pub gen_stamp: u64,
    pub num_bytes: u64,
}

/// Longest name kept inside the inode without a heap allocation.
const INLINE_NAME: usize = 22;

/// An inode's local name. Names up to 22 bytes (nearly all real ones) are stored
/// inline; longer ones on the heap.
#[derive(Clone, PartialEq, Eq)]
pub enum Name {
    Inline { len: u8, bytes: [u8; INLINE_NAME] },
    Heap(Box<[u8]>),
}

impl Name {
    pub fn new(name: &[u8]) -> Name {
        if name.len() <= INLINE_NAME {
            let mut bytes = [0u8; INLINE_NAME];
            bytes[..name.len()].copy_from_slice(name);
            Name::Inline {
                len: name.len() as u8,
                bytes,
            }
        } else {
            Name::Heap(name.into())
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Name::Inline { len, bytes } => &bytes[..*len as usize],
            Name::Heap(b) => b,
        }
    }

    /// Heap bytes this name owns (0 when inline).
    pub fn heap_len(&self) -> usize {
        match self {
            Name::Inline { .. } => 0,
            Name::Heap(b) => b.len(),
        }
    }
}

impl std::fmt::Debug for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

/// What distinguishes a file from a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// A file's blocks; `None` while it has none (every new file), so an empty file
    /// costs one pointer. (A `Box<Vec>` is 8 bytes where a `Vec` is 24, and nearly
    /// every inode pays for the field, while the extra allocation is paid per non-empty
    /// file only.)
    #[allow(clippy::box_collection)]
    File(Option<Box<Vec<BlockInfo>>>),
    /// A directory's children (slots), sorted by name bytes, like Hadoop's sorted
    /// child list searched by binary search.
    Dir(Vec<u32>),
}

/// One inode. Under-construction state and quotas are kept in side tables of the
/// namespace so this record stays small.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inode {
    pub id: u64,
    pub mtime: i64,
    /// Directories keep 0, as Hadoop's directories have no access time.
    pub atime: i64,
    /// Preferred block size (files; 0 for directories).
    pub block_size: u64,
    pub name: Name,
    pub body: Body,
    /// Slot of the parent directory (NO_SLOT for the root and free entries).
    pub parent: u32,
    /// Index into the namespace's string table.
    pub owner: u32,
    pub group: u32,
    /// Permission bits including the sticky bit (0o1000).
    pub perm: u16,
    /// Replication factor (files; 0 for directories).
    pub replication: u16,
}

impl Inode {
    pub fn is_dir(&self) -> bool {
        matches!(self.body, Body::Dir(_))
    }

    pub fn children(&self) -> &[u32] {
        match &self.body {
            Body::Dir(c) => c,
            Body::File(_) => &[],
        }
    }

    pub fn blocks(&self) -> &[BlockInfo] {
        match &self.body {
            Body::File(Some(b)) => b,
            _ => &[],
        }
    }

    /// File length: the sum of its blocks' lengths.
    pub fn length(&self) -> u64 {
        self.blocks().iter().map(|b| b.num_bytes).sum()
    }

    /// A free slab entry (its slot is on the free list).
    pub fn free() -> Inode {
        Inode {
            id: 0,
            mtime: 0,
            atime: 0,
            block_size: 0,
            name: Name::new(b""),
            body: Body::File(None),
            parent: NO_SLOT,
            owner: 0,
            group: 0,
            perm: 0,
            replication: 0,
        }
    }
}

/// Interned user and group names: inodes store a u32 index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StringTable {
    pub names: Vec<String>,
    index: std::collections::HashMap<String, u32>,
}

impl StringTable {
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(s.to_string());
        self.index.insert(s.to_string(), i);
        i
    }

    pub fn get(&self, i: u32) -> &str {
        self.names.get(i as usize).map(|s| s.as_str()).unwrap_or("")
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Heap bytes (strings counted twice: the list and the map key).
    pub fn heap_bytes(&self) -> usize {
        let strings: usize = self.names.iter().map(|s| alloc_size(s.capacity())).sum();
        self.names.capacity() * std::mem::size_of::<String>()
            + 2 * strings
            + self.index.capacity() * (std::mem::size_of::<(String, u32)>() + 1)
    }
}

/// id → slot index: an open-addressing hash table of slots (4 bytes a bucket). The key
/// is not stored; it is read from the slab, which keeps the index at a few bytes per
/// inode (a `HashMap<u64, u32>` would cost ~20-36).
#[derive(Debug, Clone, Default)]
pub struct IdIndex {
    table: Vec<u32>,
    len: usize,
}

impl IdIndex {
    /// Ids handed out one after another share a cache line of the table.
    const RUN: u64 = 16;

    fn home(id: u64, mask: usize) -> usize {
        // Runs of 16 consecutive ids (inodes created together, which an image lists
        // together) go to one 64-byte line of buckets, each id to its own bucket in
        // it; Fibonacci hashing spreads the runs, so runs that alias modulo the table
        // size do not pile up. Loading an image of a million inodes touches a
        // sixteenth of the lines a per-id hash would: its linking took 2.3x less CPU.
        let run = (id / Self::RUN).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
        ((run * Self::RUN) | (id % Self::RUN)) as usize & mask
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn capacity(&self) -> usize {
        self.table.len()
    }

    /// An index sized for `n` inodes, so loading them never grows it.
    pub fn with_capacity(n: usize) -> IdIndex {
        IdIndex {
            table: vec![NO_SLOT; Self::buckets_for(n)],
            len: 0,
        }
    }

    /// Buckets for `n` inodes: the table `insert` would have grown to (the smallest
    /// power of two that keeps the load factor at or below 7/8), so a loaded namespace
    /// costs what a built one does.
    fn buckets_for(n: usize) -> usize {
        (n.saturating_mul(8) / 7 + 1).next_power_of_two().max(16)
    }

    /// Adds `slot` unless its inode's id is already indexed (one probe for both).
    /// Returns whether it was added.
    pub fn insert_new(&mut self, slot: u32, slab: &[Inode]) -> bool {
        if (self.len + 1) * 8 > self.table.len() * 7 {
            self.grow(slab);
        }
        let id = slab[slot as usize].id;
        let mask = self.table.len() - 1;
        let mut i = Self::home(id, mask);
        // Bounded: the table always has a free bucket (load factor ≤ 7/8).
        loop {
            let s = self.table[i];
            if s == NO_SLOT {
                break;
            }
            if slab[s as usize].id == id {
                return false;
            }
            i = (i + 1) & mask;
        }
        self.table[i] = slot;
        self.len += 1;
        true
    }

    pub fn get(&self, id: u64, slab: &[Inode]) -> Option<u32> {
        if self.table.is_empty() {
            return None;
        }
        let mask = self.table.len() - 1;
        let mut i = Self::home(id, mask);
        loop {
            let s = self.table[i];
            if s == NO_SLOT {
                return None;
            }
            if slab.get(s as usize).is_some_and(|n| n.id == id) {
                return Some(s);
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds `slot` (whose inode id is already set in the slab).
    pub fn insert(&mut self, slot: u32, slab: &[Inode]) {
        if (self.len + 1) * 8 > self.table.len() * 7 {
            self.grow(slab);
        }
        let mask = self.table.len() - 1;
        let mut i = Self::home(slab[slot as usize].id, mask);
        while self.table[i] != NO_SLOT {
            i = (i + 1) & mask;
        }
        self.table[i] = slot;
        self.len += 1;
    }

    /// Removes the entry for `id` (backward-shift deletion, so no tombstones).
    pub fn remove(&mut self, id: u64, slab: &[Inode]) {
        if self.table.is_empty() {
            return;
        }
        let mask = self.table.len() - 1;
        let mut i = Self::home(id, mask);
        loop {
            let s = self.table[i];
            if s == NO_SLOT {
                return;
            }
            if slab[s as usize].id == id {
                break;
            }
            i = (i + 1) & mask;
        }
        // Shift later members of the probe run back into the hole.
        let mut hole = i;
        let mut j = (i + 1) & mask;
        loop {
            let s = self.table[j];
            if s == NO_SLOT {
                break;
            }
            let home = Self::home(slab[s as usize].id, mask);
            // Move s into the hole unless its home lies cyclically in (hole, j].
            let in_range = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if !in_range {
                self.table[hole] = s;
                hole = j;
            }
            j = (j + 1) & mask;
        }
        self.table[hole] = NO_SLOT;
        self.len -= 1;
    }

    fn grow(&mut self, slab: &[Inode]) {
        let new_cap = (self.table.len() * 2).max(16);
        let old = std::mem::replace(&mut self.table, vec![NO_SLOT; new_cap]);
        let mask = new_cap - 1;
        for s in old.into_iter().filter(|&s| s != NO_SLOT) {
            let mut i = Self::home(slab[s as usize].id, mask);
            while self.table[i] != NO_SLOT {
                i = (i + 1) & mask;
            }
            self.table[i] = s;
        }
    }
}

/// Bytes the allocator really hands out for a request of `n` bytes (glibc malloc:
/// 8 bytes of header, 16-byte granularity, 32-byte minimum chunk).
pub fn alloc_size(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        ((n + 8).div_ceil(16) * 16).max(32)
    }
}
