//! The limits on balancer block moves a DataNode serves (Hadoop's
//! `DataXceiverServer.BlockBalanceThrottler`): one bandwidth shared by every COPY_BLOCK
//! and REPLACE_BLOCK transfer (`dfs.datanode.balance.bandwidthPerSec`, changed at run
//! time by the NameNode's BalancerBandwidthCommand), and a cap on moves served at once
//! (`dfs.datanode.balance.max.concurrent.moves`).
//!
//! The bandwidth is a token bucket refilled every [`PERIOD`]: a transfer takes its bytes
//! from the bucket and waits while it is empty, so all moves together stay at the rate
//! however many run.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// The refill period (Hadoop's throttler uses 500 ms too).
pub const PERIOD: Duration = Duration::from_millis(500);

#[derive(Debug)]
struct Bucket {
    bytes_per_period: u64,
    /// Bytes that may still be sent in this period; negative after a large chunk.
    reserve: i64,
    period_end: Instant,
}

/// Bandwidth and concurrency limits of balancer moves. See the module docs.
#[derive(Debug)]
pub struct BalanceLimits {
    bucket: Mutex<Bucket>,
    max_moves: usize,
    moves: AtomicUsize,
}

impl Default for BalanceLimits {
    fn default() -> Self {
        BalanceLimits::new(
            hafs_conf::keys::DFS_DATANODE_BALANCE_BANDWIDTHPERSEC_DEFAULT,
            hafs_conf::keys::DFS_DATANODE_BALANCE_MAX_CONCURRENT_MOVES_DEFAULT as usize,
        )
    }
}

/// One move being served; dropping it frees its place.
#[derive(Debug)]
pub struct MoveSlot(Arc<BalanceLimits>);

impl Drop for MoveSlot {
    fn drop(&mut self) {
        self.0.moves.fetch_sub(1, Ordering::AcqRel);
    }
}

fn per_period(bandwidth: u64) -> u64 {
    (bandwidth.saturating_mul(PERIOD.as_millis() as u64) / 1000).max(1)
}

impl BalanceLimits {
    pub fn new(bandwidth: u64, max_moves: usize) -> BalanceLimits {
        let bpp = per_period(bandwidth);
        BalanceLimits {
            bucket: Mutex::new(Bucket {
                bytes_per_period: bpp,
                reserve: bpp as i64,
                period_end: Instant::now() + PERIOD,
            }),
            max_moves,
            moves: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Bucket> {
        hafs_util::invariant::lock(&self.bucket, "balance throttler")
    }

    /// The bandwidth in bytes per second.
    pub fn bandwidth(&self) -> u64 {
        self.lock().bytes_per_period * 1000 / PERIOD.as_millis() as u64
    }

    /// A new bandwidth (the NameNode's BalancerBandwidthCommand); 0 is ignored.
    pub fn set_bandwidth(&self, bandwidth: u64) {
        if bandwidth == 0 {
            return;
        }
        let mut b = self.lock();
        b.bytes_per_period = per_period(bandwidth);
        b.reserve = b.reserve.min(b.bytes_per_period as i64);
        tracing::info!(bandwidth, "balancer bandwidth set");
    }

    /// The most moves served at once.
    pub fn max_moves(&self) -> usize {
        self.max_moves
    }

    /// Moves being served now.
    pub fn moves(&self) -> usize {
        self.moves.load(Ordering::Acquire)
    }

    /// A place for one more move, or `None` when the quota is used up.
    pub fn try_acquire(self: &Arc<Self>) -> Option<MoveSlot> {
        let mut cur = self.moves.load(Ordering::Acquire);
        loop {
            if cur >= self.max_moves {
                return None;
            }
            match self.moves.compare_exchange_weak(
                cur,
                cur + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Some(MoveSlot(self.clone())),
                Err(now) => cur = now,
            }
        }
    }

    /// Takes `n` bytes from the bucket, waiting until it holds some.
    pub async fn throttle(&self, n: usize) {
        loop {
            let wait = {
                let mut b = self.lock();
                let now = Instant::now();
                if now >= b.period_end {
                    let idle = now.duration_since(b.period_end) >= PERIOD;
                    b.reserve = if idle {
                        b.bytes_per_period as i64
                    } else {
                        (b.reserve + b.bytes_per_period as i64).min(b.bytes_per_period as i64)
                    };
                    b.period_end = now + PERIOD;
                }
                if b.reserve > 0 {
                    b.reserve -= n as i64;
                    return;
                }
                b.period_end - now
            };
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_move_quota_is_enforced_and_freed() {
        let l = Arc::new(BalanceLimits::new(1 << 20, 2));
        let a = l.try_acquire().expect("first");
        let _b = l.try_acquire().expect("second");
        assert!(l.try_acquire().is_none(), "a third move is over the quota");
        drop(a);
        assert!(l.try_acquire().is_some(), "a freed place is reusable");
    }

    #[test]
    fn bandwidth_changes_and_ignores_zero() {
        let l = BalanceLimits::new(10 << 20, 1);
        assert_eq!(l.bandwidth(), 10 << 20);
        l.set_bandwidth(2 << 20);
        assert_eq!(l.bandwidth(), 2 << 20);
        l.set_bandwidth(0);
        assert_eq!(l.bandwidth(), 2 << 20);
    }

    #[tokio::test(start_paused = true)]
    async fn throttle_holds_the_rate() {
        // 1 MiB/s: 4 MiB in 64 KiB chunks takes about 4 s (less the first period's
        // reserve), whatever the chunking.
        let l = BalanceLimits::new(1 << 20, 1);
        let start = Instant::now();
        for _ in 0..64 {
            l.throttle(64 << 10).await;
        }
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(3400) && took <= Duration::from_millis(4100),
            "4 MiB at 1 MiB/s took {took:?}"
        );
    }
}
