//! What both failover benchmarks (manual and automatic) use: the mkdirs write load
//! through the nameservice, a client pinned to one NameNode, and the figures' units.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hafs_client::DfsClient;
use hafs_conf::Configuration;

use super::report::percentile;

/// The write load: mkdirs through the nameservice, acknowledged paths and instants.
pub struct Load {
    stop: Arc<AtomicBool>,
    acks: Arc<Mutex<Vec<(Instant, String)>>>,
    errors: Arc<AtomicU64>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    /// `writers` tasks, each with its own client, making dirs under `<run>/load/w<i>`.
    pub fn start(conf: &Configuration, run: &str, writers: usize) -> anyhow::Result<Load> {
        let stop = Arc::new(AtomicBool::new(false));
        let acks = Arc::new(Mutex::new(Vec::new()));
        let errors = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for w in 0..writers {
            let client = DfsClient::new(conf, None)?;
            let (stop, acks, errors) = (stop.clone(), acks.clone(), errors.clone());
            let dir = format!("{run}/load/w{w}");
            tasks.push(tokio::spawn(async move {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let path = format!("{dir}/d{n}");
                    match client.mkdirs(&path, 0o755, true).await {
                        Ok(_) => acks.lock().expect("acks lock").push((Instant::now(), path)),
                        Err(_) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                            // A write that failed after all retries: pause a moment.
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    }
                    n += 1;
                }
            }));
        }
        Ok(Load {
            stop,
            acks,
            errors,
            tasks,
        })
    }

    /// Time from `t` to the first acknowledgement after it.
    pub fn first_ack_after(&self, t: Instant) -> Option<Duration> {
        let acks = self.acks.lock().expect("acks lock");
        acks.iter()
            .filter(|(a, _)| *a > t)
            .map(|(a, _)| *a - t)
            .min()
    }

    /// How many writes were acknowledged so far.
    pub fn count(&self) -> usize {
        self.acks.lock().expect("acks lock").len()
    }

    /// The acknowledged paths, in order.
    pub fn acked(&self) -> Vec<String> {
        let acks = self.acks.lock().expect("acks lock");
        acks.iter().map(|(_, p)| p.clone()).collect()
    }

    /// Stops the writers (each may finish its write in flight); returns how many
    /// writes failed.
    pub async fn stop(&mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(60), t).await;
        }
        self.errors.load(Ordering::Relaxed)
    }
}

/// A client that talks to NameNode `addr` only, no failover.
pub fn pinned_client(conf: &Configuration, addr: &str) -> anyhow::Result<DfsClient> {
    let mut conf = conf.clone();
    conf.set("dfs.client.failover.max.attempts", "0");
    Ok(DfsClient::new(&conf, Some(&format!("hdfs://{addr}")))?)
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// p50, p99 and max in milliseconds, and how many samples.
pub fn stats(ds: impl Iterator<Item = Duration>) -> (f64, f64, f64, usize) {
    let mut us: Vec<u32> = ds
        .map(|d| d.as_micros().min(u32::MAX as u128) as u32)
        .collect();
    us.sort_unstable();
    let max = us.last().copied().unwrap_or(0);
    (
        percentile(&us, 50.0) as f64 / 1000.0,
        percentile(&us, 99.0) as f64 / 1000.0,
        max as f64 / 1000.0,
        us.len(),
    )
}

/// How a report says whether an aim was reached.
pub fn met(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "NOT met"
    }
}
