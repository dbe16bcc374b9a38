//! Blocks with fewer live replicas than their file asks for, in priority queues like
//! Hadoop's LowRedundancyBlocks.

use std::collections::{BTreeSet, HashMap};

/// One live replica left: the next failure loses data.
pub const QUEUE_HIGHEST_PRIORITY: usize = 0;
/// Fewer than a third of the wanted replicas.
pub const QUEUE_VERY_LOW_REDUNDANCY: usize = 1;
pub const QUEUE_LOW_REDUNDANCY: usize = 2;
/// Enough replicas but all on one rack while the cluster has more.
pub const QUEUE_REPLICAS_BADLY_DISTRIBUTED: usize = 3;
/// No live replica at all: the block is missing (its only replicas are corrupt or gone).
pub const QUEUE_WITH_CORRUPT_BLOCKS: usize = 4;
pub const LEVELS: usize = 5;

/// The queue a block belongs in, given its live and wanted replica counts.
pub fn priority(live: usize, expected: usize) -> usize {
    if live == 0 {
        QUEUE_WITH_CORRUPT_BLOCKS
    } else if live == 1 {
        QUEUE_HIGHEST_PRIORITY
    } else if live * 3 < expected {
        QUEUE_VERY_LOW_REDUNDANCY
    } else if live < expected {
        QUEUE_LOW_REDUNDANCY
    } else {
        QUEUE_REPLICAS_BADLY_DISTRIBUTED
    }
}

#[derive(Debug, Default)]
pub struct LowRedundancyBlocks {
    queues: [BTreeSet<u64>; LEVELS],
    level_of: HashMap<u64, usize>,
}

impl LowRedundancyBlocks {
    /// Puts the block in `level` (moving it if it was elsewhere).
    pub fn update(&mut self, block_id: u64, level: usize) {
        let level = level.min(LEVELS - 1);
        if let Some(old) = self.level_of.insert(block_id, level) {
            if old == level {
                return;
            }
            self.queues[old].remove(&block_id);
        }
        self.queues[level].insert(block_id);
    }

    pub fn remove(&mut self, block_id: u64) {
        if let Some(old) = self.level_of.remove(&block_id) {
            self.queues[old].remove(&block_id);
        }
    }

    pub fn level_of(&self, block_id: u64) -> Option<usize> {
        self.level_of.get(&block_id).copied()
    }

    pub fn len_at(&self, level: usize) -> usize {
        self.queues.get(level).map_or(0, |q| q.len())
    }

    /// Blocks that can be repaired (every queue but the missing ones).
    pub fn low_redundancy_count(&self) -> usize {
        (0..QUEUE_WITH_CORRUPT_BLOCKS).map(|l| self.len_at(l)).sum()
    }

    /// Up to `max` blocks, highest priority first (the missing ones last: they have no
    /// source to copy from until a replica reappears).
    pub fn choose(&self, max: usize) -> Vec<(usize, u64)> {
        let mut out = Vec::new();
        for (level, q) in self.queues.iter().enumerate() {
            for id in q {
                if out.len() >= max {
                    return out;
                }
                out.push((level, *id));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_follow_hadoop() {
        assert_eq!(priority(0, 3), QUEUE_WITH_CORRUPT_BLOCKS);
        assert_eq!(priority(1, 3), QUEUE_HIGHEST_PRIORITY);
        assert_eq!(priority(2, 10), QUEUE_VERY_LOW_REDUNDANCY);
        assert_eq!(priority(2, 3), QUEUE_LOW_REDUNDANCY);
        assert_eq!(priority(1, 1), QUEUE_HIGHEST_PRIORITY);
    }

    #[test]
    fn choose_takes_highest_first_and_moves() {
        let mut q = LowRedundancyBlocks::default();
        q.update(7, QUEUE_LOW_REDUNDANCY);
        q.update(9, QUEUE_HIGHEST_PRIORITY);
        q.update(3, QUEUE_WITH_CORRUPT_BLOCKS);
        assert_eq!(
            q.choose(10),
            vec![
                (QUEUE_HIGHEST_PRIORITY, 9),
                (QUEUE_LOW_REDUNDANCY, 7),
                (QUEUE_WITH_CORRUPT_BLOCKS, 3)
            ]
        );
        assert_eq!(q.low_redundancy_count(), 2);
        q.update(7, QUEUE_HIGHEST_PRIORITY);
        assert_eq!(q.len_at(QUEUE_LOW_REDUNDANCY), 0);
        assert_eq!(q.choose(1), vec![(QUEUE_HIGHEST_PRIORITY, 7)]);
        q.remove(7);
        q.remove(9);
        assert_eq!(q.low_redundancy_count(), 0);
        assert_eq!(q.len_at(QUEUE_WITH_CORRUPT_BLOCKS), 1);
    }
}
