//! An honest estimate of the namespace's heap footprint, computed from real capacities
//! and allocator rounding (not from lengths).

use std::mem::size_of;

use super::inode::{alloc_size, Body, Inode};
use super::{Namespace, Quota, UnderConstruction};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryStats {
    /// Live inodes (files and directories, the root included).
    pub inodes: u64,
    pub bytes_total: u64,
    pub bytes_per_inode: f64,
}

/// Heap bytes of a hashbrown map with `capacity` buckets of `entry` bytes (one control
/// byte per bucket).
fn map_bytes(buckets: usize, entry: usize) -> usize {
    if buckets == 0 {
        0
    } else {
        alloc_size(buckets * (entry + 1) + 16)
    }
}

impl Namespace {
    pub fn memory_estimate(&self) -> MemoryStats {
        let mut total = size_of::<Namespace>();
        total += alloc_size(self.slab.capacity() * size_of::<Inode>());
        total += alloc_size(self.free.capacity() * size_of::<u32>());
        total += alloc_size(self.index.capacity() * size_of::<u32>());
        for n in self.slab.iter().filter(|n| n.id != 0) {
            total += alloc_size(n.name.heap_len());
            match &n.body {
                Body::Dir(children) => total += alloc_size(children.capacity() * size_of::<u32>()),
                Body::File(Some(blocks)) => {
                    total += alloc_size(size_of::<Vec<u8>>())
                        + alloc_size(blocks.capacity() * size_of::<super::BlockInfo>())
                }
                Body::File(None) => {}
            }
        }
        total += self.strings.heap_bytes();
        // hashbrown sizes buckets to a power of two >= capacity * 8 / 7.
        let buckets = |cap: usize| {
            if cap == 0 {
                0
            } else {
                (cap * 8 / 7).next_power_of_two()
            }
        };
        total += map_bytes(
            buckets(self.under_construction.capacity()),
            size_of::<(u64, UnderConstruction)>(),
        );
        for uc in self.under_construction.values() {
            total +=
                alloc_size(uc.client_name.capacity()) + alloc_size(uc.client_machine.capacity());
        }
        total += map_bytes(buckets(self.quotas.capacity()), size_of::<(u64, Quota)>());
        total += self.acls.heap_bytes();
        total += map_bytes(
            buckets(self.xattrs.capacity()),
            size_of::<(u64, Box<[super::XAttr]>)>(),
        ) + self.xattr_heap_bytes();
        let inodes = (self.slab.len() - self.free.len()) as u64;
        MemoryStats {
            inodes,
            bytes_total: total as u64,
            bytes_per_inode: total as f64 / inodes.max(1) as f64,
        }
    }
}
