//! `with_quorum`: run one call per JournalNode in parallel and take the first `need`
//! successes, bounded by a timeout (the garage-style quorum helper).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::task::JoinSet;

pub type BoxFut<T> = Pin<Box<dyn Future<Output = Result<T, String>> + Send>>;

/// Why a quorum call failed: which nodes answered what.
#[derive(Debug, Clone)]
pub struct QuorumFailure {
    pub message: String,
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
            return Err(QuorumFailure {
                message: format!(
                    "{what}: got too many exceptions to achieve quorum size {need}/{total}. {} successful responses; exceptions: {}",
                    ok.len(),
                    errors.join("; ")
                ),
            });
        }
        match tokio::time::timeout_at(deadline, set.join_next()).await {
            Err(_) => {
                return Err(QuorumFailure {
                    message: format!(
                        "{what}: timed out waiting {}ms for a quorum of nodes to respond ({} of {need} needed answered{}{})",
                        timeout.as_millis(),
                        ok.len(),
                        if errors.is_empty() { "" } else { "; exceptions: " },
                        errors.join("; ")
                    ),
                })
            }
            Ok(None) => break,
            Ok(Some(Ok((i, Ok(v))))) => ok.push((i, v)),
            Ok(Some(Ok((i, Err(e))))) => {
                let addr = addrs.get(i).map(String::as_str).unwrap_or("?");
                // Connection errors already name the address.
                errors.push(if e.starts_with(addr) { e } else { format!("{addr}: {e}") })
            }
            Ok(Some(Err(e))) => errors.push(format!("task failed: {e}")),
        }
    }
    if ok.len() < need {
        return Err(QuorumFailure {
            message: format!("{what}: only {} of {need} needed answered", ok.len()),
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
        assert!(e.message.contains("too many exceptions"), "{}", e.message);
        let e = with_quorum(
            "t",
            &a,
            vec![f(1, true), f(5000, true), f(5000, true)],
            2,
            Duration::from_millis(50),
        )
        .await
        .unwrap_err();
        assert!(e.message.contains("timed out"), "{}", e.message);
    }
}
