//! `with_quorum`: run one call per JournalNode in parallel and take the first `need`
//! successes, bounded by a timeout (the garage-style quorum helper).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::task::JoinSet;

pub type BoxFut<T> = Pin<Box<dyn Future<Output = Result<T, String>> + Send>>;

/// Why a quorum call failed: which nodes answered what. The messages are Hadoop's
/// (`QuorumException`), so operators can search for them.
#[derive(Debug, Clone, thiserror::Error)]
pub enum QuorumFailure {
    /// So many nodes answered with an error that a majority can no longer succeed.
    #[error(
        "{what}: got too many exceptions to achieve quorum size {need}/{total}. {successes} successful responses; exceptions: {}",
        .exceptions.join("; ")
    )]
    TooManyExceptions {
        what: String,
        need: usize,
        total: usize,
        successes: usize,
        /// One per failed node: `addr: error`.
        exceptions: Vec<String>,
    },
    /// The timeout passed before a majority answered.
    #[error(
        "{what}: timed out waiting {timeout_ms}ms for a quorum of nodes to respond ({successes} of {need} needed answered{}{})",
        if .exceptions.is_empty() { "" } else { "; exceptions: " },
        .exceptions.join("; ")
    )]
    TimedOut {
        what: String,
        timeout_ms: u128,
        need: usize,
        successes: usize,
        exceptions: Vec<String>,
    },
    /// Fewer calls than a majority were made at all.
    #[error("{what}: only {successes} of {need} needed answered")]
    TooFewNodes {
        what: String,
        need: usize,
        successes: usize,
    },
}

/// Waits for `need` successes among `calls` (index = node). Returns the successes as
/// (node, value) in arrival order. Fails as soon as `need` can no longer be reached, or
/// at `timeout`. Calls still running when it returns are left to finish on their own
/// (their node's queue keeps its order).
pub async fn with_quorum<T: Send + 'static>(
    what: &str,
    addrs: &[String],
    calls: Vec<BoxFut<T>>,
    need: usize,
    timeout: Duration,
) -> Result<Vec<(usize, T)>, QuorumFailure> {
    let total = calls.len();
    let mut set = JoinSet::new();
    for (i, c) in calls.into_iter().enumerate() {
        set.spawn(async move { (i, c.await) });
    }
    let mut ok = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    let deadline = tokio::time::Instant::now() + timeout;
    // Bounded: each iteration consumes one finished call.
    while ok.len() < need {
        if total - errors.len() < need {
            return Err(QuorumFailure::TooManyExceptions {
                what: what.to_string(),
                need,
                total,
                successes: ok.len(),
                exceptions: errors,
            });
        }
        match tokio::time::timeout_at(deadline, set.join_next()).await {
            Err(_) => {
                return Err(QuorumFailure::TimedOut {
                    what: what.to_string(),
                    timeout_ms: timeout.as_millis(),
                    need,
                    successes: ok.len(),
                    exceptions: errors,
                })
            }
            Ok(None) => break,
            Ok(Some(Ok((i, Ok(v))))) => ok.push((i, v)),
            Ok(Some(Ok((i, Err(e))))) => {
                let addr = addrs.get(i).map(String::as_str).unwrap_or("?");
                // Connection errors already name the address.
                errors.push(if e.starts_with(addr) {
                    e
                } else {
                    format!("{addr}: {e}")
                })
            }
            Ok(Some(Err(e))) => errors.push(format!("task failed: {e}")),
        }
    }
    if ok.len() < need {
        return Err(QuorumFailure::TooFewNodes {
            what: what.to_string(),
            need,
            successes: ok.len(),
        });
    }
    Ok(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(ms: u64, ok: bool) -> BoxFut<u64> {
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            if ok {
                Ok(ms)
            } else {
                Err(format!("fail{ms}"))
            }
        })
    }

    #[tokio::test]
    async fn first_successes_win_failures_and_timeouts_reported() {
        let a: Vec<String> = vec!["a".into(), "b".into(), "c".into()];
        let r = with_quorum(
            "t",
            &a,
            vec![f(50, true), f(1, true), f(500, true)],
            2,
            Duration::from_secs(5),
        )
        .await
        .unwrap();
        assert_eq!(r.iter().map(|x| x.0).collect::<Vec<_>>(), vec![1, 0]);
        let e = with_quorum(
            "t",
            &a,
            vec![f(1, false), f(2, false), f(5000, true)],
            2,
            Duration::from_secs(5),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&e, QuorumFailure::TooManyExceptions { exceptions, .. } if exceptions.len() == 2),
            "{e}"
        );
        assert!(e.to_string().contains("too many exceptions"), "{e}");
        let e = with_quorum(
            "t",
            &a,
            vec![f(1, true), f(5000, true), f(5000, true)],
            2,
            Duration::from_millis(50),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(e, QuorumFailure::TimedOut { successes: 1, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("timed out"), "{e}");
    }
}
