//! Loopback ports for local daemons.
//!
//! A port is picked here and bound later by a child process, so the pick can race: a
//! port the OS hands out for `bind(0)` lies in the ephemeral range, where any outgoing
//! connection on the machine may take it before the daemon binds it (which happened on
//! busy machines). So ports come from below the ephemeral range first, and one process
//! never hands the same port out twice. Each process draws them from a slice of that
//! range that it owns while it lives (a lock file), so a port freed by one process's
//! daemon (one it killed) is not handed to another process's daemon meanwhile: a client
//! of the first cluster would then reach a stranger (which once answered "Unknown
//! protocol" to a test's NameNode client after that NameNode stopped on purpose).

use std::collections::HashSet;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// Ports below the kernel's ephemeral range (32768–60999 by default) are never given to
/// an outgoing connection. Each process draws from its own slice of them (see
/// [`own_slice`]); a process that used up its slice falls back to the OS.
const LOW_PORTS: u16 = 20_000;
const SLICE: u16 = 100;
const SLICES: u32 = 125;

/// The slice this process owns: the first of `slice-<n>` (from `pid % SLICES` on) under
/// `$TMPDIR/hafs-port-slices/` that it could `flock`. The lock lasts as long as the
/// process (the kernel drops it when it exits, even on SIGKILL), so no two live
/// processes own one slice. Without a lock (no temp dir, every slice taken) the slice
/// is `pid % SLICES`, shared by chance as before.
fn own_slice() -> u16 {
    static OWNED: OnceLock<Option<(u16, std::fs::File)>> = OnceLock::new();
    let fallback = (std::process::id() % SLICES) as u16;
    let owned = OWNED.get_or_init(|| {
        let dir = std::env::temp_dir().join("hafs-port-slices");
        std::fs::create_dir_all(&dir).ok()?;
        (0..SLICES).find_map(|i| {
            let n = (std::process::id() + i) % SLICES;
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(dir.join(format!("slice-{n}")))
                .ok()?;
            // SAFETY: flock(2) on a descriptor this function owns; no memory involved.
            let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            (locked == 0).then_some((n as u16, file))
        })
    });
    owned.as_ref().map_or(fallback, |(n, _)| *n)
}

/// How many OS-assigned ports to try before giving up (each may be one handed out before).
const OS_TRIES: usize = 100;

/// A port on 127.0.0.1 that was free a moment ago and that this process has not handed
/// out before, so concurrent clusters in one process are never given the same port.
pub fn try_free_port() -> io::Result<u16> {
    // A poisoned lock only means another thread panicked while picking; the set of
    // handed-out ports is still right.
    let mut guard = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    let handed = guard.get_or_insert_with(HashSet::new);
    let first = LOW_PORTS + own_slice() * SLICE;
    for port in first..first + SLICE {
        if !handed.contains(&port) && TcpListener::bind(("127.0.0.1", port)).is_ok() {
            handed.insert(port);
            return Ok(port);
        }
    }
    for _ in 0..OS_TRIES {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        if handed.insert(port) {
            return Ok(port);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AddrInUse,
        format!("no free loopback port in {OS_TRIES} tries"),
    ))
}

/// [`try_free_port`] for tests: a machine that cannot bind loopback ports cannot run
/// them, so this panics with the reason.
pub fn free_port() -> u16 {
    try_free_port().unwrap_or_else(|e| panic!("no free loopback port: {e}"))
}

/// `preferred` if it is free now (a daemon that keeps its usual port), else a free one.
pub fn pick_port(preferred: u16) -> io::Result<u16> {
    if TcpListener::bind(("127.0.0.1", preferred)).is_ok() {
        return Ok(preferred);
    }
    try_free_port()
}

/// Waits until `addr` accepts TCP connections, or `timeout` passes (returns false).
pub fn wait_for_port(addr: SocketAddr, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_hands_out_a_port_twice() {
        let ports: Vec<u16> = (0..150).map(|_| free_port()).collect();
        let unique: HashSet<u16> = ports.iter().copied().collect();
        assert_eq!(unique.len(), ports.len());
        // The first ones come from below the ephemeral range.
        assert!(ports[0] < 32_768);
        // Ours alone: another process cannot lock our slice while we live.
        let ours = own_slice();
        let path = std::env::temp_dir()
            .join("hafs-port-slices")
            .join(format!("slice-{ours}"));
        let other = std::fs::File::open(path).unwrap();
        // SAFETY: flock(2) on a descriptor this test owns.
        let taken = unsafe { libc::flock(other.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        assert_ne!(taken, 0, "a second lock on slice {ours} must fail");
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        assert!(wait_for_port(
            l.local_addr().unwrap(),
            Duration::from_secs(1)
        ));
    }
}
