//! Loopback ports for test daemons.

use std::collections::HashSet;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Mutex;
use std::time::{Duration, Instant};

static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// Ports below the kernel's ephemeral range (32768–60999 by default) are never given to
/// an outgoing connection, so a port picked here cannot be taken by some client socket
/// between the pick and the daemon's bind — which happened with OS-assigned ports on a
/// busy machine. Each test process draws from its own slice (by pid), so concurrent
/// test processes rarely meet; a process that used up its slice falls back to the OS.
const LOW_PORTS: u16 = 20_000;
const SLICE: u16 = 100;
const SLICES: u32 = 125;

/// A port on 127.0.0.1 that was free a moment ago. A port is never handed out twice by
/// one test process, so daemons of concurrent tests in the same process cannot be given
/// the same port.
pub fn free_port() -> u16 {
    let mut guard = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    let handed = guard.get_or_insert_with(HashSet::new);
    let first = LOW_PORTS + (std::process::id() % SLICES) as u16 * SLICE;
    for port in first..first + SLICE {
        if !handed.contains(&port) && TcpListener::bind(("127.0.0.1", port)).is_ok() {
            handed.insert(port);
            return port;
        }
    }
    for _ in 0..100 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener
            .local_addr()
            .expect("local_addr of a bound listener")
            .port();
        if handed.insert(port) {
            return port;
        }
    }
    panic!("could not find a free loopback port in 100 tries");
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
