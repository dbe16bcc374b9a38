//! Network partitions between one host (a NameNode and its failover controller) and
//! the JournalNodes, made with TCP forwarding proxies.
//!
//! Each [`PartitionProxy`] listens on a loopback port and forwards every connection to
//! one JournalNode. A host whose `dfs.namenode.shared.edits.dir` names the proxies'
//! ports instead of the JournalNodes' reaches them only through the proxies; cutting a
//! proxy partitions that host from that JournalNode, and nobody else.
//!
//! A cut **blackholes**, as a dropped link does: bytes stop flowing in both directions
//! on existing connections, but no socket is closed or reset, so the endpoints notice
//! only through their own timeouts — exactly what a real partition exercises (a reset
//! would tell the NameNode at once, which no switch failure does). New connections are
//! not accepted while cut: the kernel completes a few handshakes into the listen
//! backlog (data then goes nowhere) and drops further SYNs, so connects hang and time
//! out. Nothing is lost, only held: on [`PartitionProxy::heal`] held bytes and queued
//! connections flow again, as TCP retransmissions would after a link comes back.
//!
//! Bounds: at most [`MAX_CONNECTIONS`] live connections per proxy (further ones are
//! closed at once and counted), two threads and two [`BUFFER_SIZE`] buffers per
//! connection, one accept thread per proxy. Dropping a proxy shuts every socket down
//! and joins every thread.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::cluster::MiniCluster;
use crate::journalnodes::{JournalNodes, TEST_JOURNAL_ID};

/// Most live connections one proxy forwards; more are closed on arrival.
pub const MAX_CONNECTIONS: usize = 64;
/// Bytes one direction of one connection holds at a time.
pub const BUFFER_SIZE: usize = 64 * 1024;
/// How often an idle or cut thread looks at the cut and stop flags.
const POLL: Duration = Duration::from_millis(20);

/// What every thread of one proxy shares.
#[derive(Debug)]
struct Shared {
    target: SocketAddr,
    cut: AtomicBool,
    stopping: AtomicBool,
    live: AtomicUsize,
    refused: AtomicUsize,
    /// One clone of each live connection's two sockets, to shut them down on drop.
    sockets: Mutex<Vec<(u64, TcpStream, TcpStream)>>,
    pumps: Mutex<Vec<JoinHandle<()>>>,
}

/// A TCP forwarder from a loopback port to one target, which can be cut and healed.
#[derive(Debug)]
pub struct PartitionProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl PartitionProxy {
    /// Listens on a free loopback port and forwards to `target`.
    #[track_caller]
    pub fn start(target: SocketAddr) -> PartitionProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind partition proxy");
        listener
            .set_nonblocking(true)
            .expect("non-blocking partition proxy listener");
        let addr = listener.local_addr().expect("partition proxy address");
        let shared = Arc::new(Shared {
            target,
            cut: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            live: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
            sockets: Mutex::new(Vec::new()),
            pumps: Mutex::new(Vec::new()),
        });
        let s = shared.clone();
        let acceptor = std::thread::Builder::new()
            .name(format!("proxy-{target}"))
            .spawn(move || accept_loop(listener, s))
            .expect("spawn partition proxy");
        PartitionProxy {
            addr,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// Where the host connects instead of the target.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The JournalNode it forwards to.
    pub fn target(&self) -> SocketAddr {
        self.shared.target
    }

    /// Blackholes the link: nothing flows either way, no new connection is accepted.
    pub fn cut(&self) {
        self.shared.cut.store(true, Ordering::SeqCst);
    }

    /// Lets everything flow again (held bytes and waiting connections included).
    pub fn heal(&self) {
        self.shared.cut.store(false, Ordering::SeqCst);
    }

    pub fn is_cut(&self) -> bool {
        self.shared.cut.load(Ordering::SeqCst)
    }

    /// Connections being forwarded (or held) now.
    pub fn live_connections(&self) -> usize {
        self.shared.live.load(Ordering::SeqCst)
    }

    /// Connections closed on arrival because [`MAX_CONNECTIONS`] were live.
    pub fn refused_connections(&self) -> usize {
        self.shared.refused.load(Ordering::SeqCst)
    }
}

impl Drop for PartitionProxy {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
        for (_, a, b) in self.shared.sockets.lock().expect("sockets lock").drain(..) {
            let _ = a.shutdown(Shutdown::Both);
            let _ = b.shutdown(Shutdown::Both);
        }
        let pumps: Vec<_> = self
            .shared
            .pumps
            .lock()
            .expect("pumps lock")
            .drain(..)
            .collect();
        for p in pumps {
            let _ = p.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut next_id = 0u64;
    while !shared.stopping.load(Ordering::SeqCst) {
        // While cut, connections wait in the kernel's backlog (or their SYNs are
        // dropped once it is full), as behind a dead link.
        if shared.cut.load(Ordering::SeqCst) {
            std::thread::sleep(POLL);
            continue;
        }
        let client = match listener.accept() {
            Ok((client, _)) => client,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(POLL);
                continue;
            }
            Err(e) => {
                eprintln!("partition proxy for {}: accept failed: {e}", shared.target);
                std::thread::sleep(POLL);
                continue;
            }
        };
        if shared.live.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
            shared.refused.fetch_add(1, Ordering::SeqCst);
            drop(client);
            continue;
        }
        next_id += 1;
        if let Err(e) = forward(next_id, client, &shared) {
            eprintln!("partition proxy for {}: {e}", shared.target);
        }
        reap_finished(&shared);
    }
}

/// Connects to the target and starts the two pumps of one connection.
fn forward(id: u64, client: TcpStream, shared: &Arc<Shared>) -> std::io::Result<()> {
    client.set_nonblocking(false)?;
    let server = TcpStream::connect_timeout(&shared.target, Duration::from_secs(5))?;
    for s in [&client, &server] {
        s.set_nodelay(true)?;
        // Reads wake up regularly so a pump sees a cut or the proxy stopping.
        s.set_read_timeout(Some(POLL))?;
    }
    shared.sockets.lock().expect("sockets lock").push((
        id,
        client.try_clone()?,
        server.try_clone()?,
    ));
    // Each pump ends its direction; the last one to end forgets the connection.
    let ends = Arc::new(AtomicUsize::new(2));
    shared.live.fetch_add(1, Ordering::SeqCst);
    let mut handles = Vec::new();
    for (from, to) in [(client.try_clone()?, server.try_clone()?), (server, client)] {
        let s = shared.clone();
        let ends = ends.clone();
        let h = std::thread::Builder::new()
            .name(format!("pump-{id}"))
            .spawn(move || {
                pump(from, to, &s);
                if ends.fetch_sub(1, Ordering::SeqCst) == 1 {
                    s.sockets
                        .lock()
                        .expect("sockets lock")
                        .retain(|(i, _, _)| *i != id);
                    s.live.fetch_sub(1, Ordering::SeqCst);
                }
            })?;
        handles.push(h);
    }
    shared.pumps.lock().expect("pumps lock").extend(handles);
    Ok(())
}

/// Copies `from` → `to` until EOF, an error or the proxy stops; holds the bytes (reads
/// nothing, writes nothing) while cut.
fn pump(mut from: TcpStream, mut to: TcpStream, shared: &Shared) {
    let mut buf = vec![0u8; BUFFER_SIZE];
    loop {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        if shared.cut.load(Ordering::SeqCst) {
            std::thread::sleep(POLL);
            continue;
        }
        let n = match from.read(&mut buf) {
            Ok(0) => {
                // Half-close: the other direction may still carry an answer.
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(_) => {
                let _ = to.shutdown(Shutdown::Both);
                return;
            }
        };
        // Read just before a cut: hold the bytes until healed, like a lost segment
        // that is retransmitted later.
        while shared.cut.load(Ordering::SeqCst) {
            if shared.stopping.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(POLL);
        }
        if to.write_all(&buf[..n]).is_err() {
            let _ = from.shutdown(Shutdown::Both);
            return;
        }
    }
}

/// Joins the pump threads that have ended, so handles do not pile up.
fn reap_finished(shared: &Shared) {
    let mut pumps = shared.pumps.lock().expect("pumps lock");
    let (done, running): (Vec<_>, Vec<_>) = pumps.drain(..).partition(|h| h.is_finished());
    *pumps = running;
    drop(pumps);
    for h in done {
        let _ = h.join();
    }
}

/// The proxies between one host and every JournalNode.
#[derive(Debug)]
pub struct JournalPartition {
    proxies: Vec<PartitionProxy>,
    journal_id: String,
}

impl JournalPartition {
    /// One proxy per JournalNode address, in order.
    #[track_caller]
    pub fn start(journalnodes: &[SocketAddr], journal_id: &str) -> JournalPartition {
        JournalPartition {
            proxies: journalnodes
                .iter()
                .map(|a| PartitionProxy::start(*a))
                .collect(),
            journal_id: journal_id.to_string(),
        }
    }

    /// The host's `qjournal://` URI: the proxies' addresses, same journal id.
    pub fn uri(&self) -> String {
        let hosts: Vec<String> = self.proxies.iter().map(|p| p.addr().to_string()).collect();
        format!("qjournal://{}/{}", hosts.join(";"), self.journal_id)
    }

    /// Cuts the host off from the JournalNodes at these indexes.
    pub fn cut(&self, journalnodes: &[usize]) {
        for &j in journalnodes {
            self.proxies[j].cut();
        }
    }

    /// Heals every link.
    pub fn heal(&self) {
        for p in &self.proxies {
            p.heal();
        }
    }

    pub fn proxy(&self, j: usize) -> &PartitionProxy {
        &self.proxies[j]
    }

    pub fn len(&self) -> usize {
        self.proxies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.proxies.is_empty()
    }
}

/// The proxies of `MiniClusterBuilder::partitionable_namenode`, one set per NameNode
/// index asked for.
#[track_caller]
pub(crate) fn start_for(
    partitionable: &[usize],
    namenodes: usize,
    journalnodes: Option<&JournalNodes>,
) -> Vec<(usize, JournalPartition)> {
    if partitionable.is_empty() {
        return Vec::new();
    }
    let jns = journalnodes
        .expect(".partitionable_namenode(i) needs .journalnodes(n) (the link cut is to them)");
    assert!(
        namenodes > 1,
        ".partitionable_namenode(i) needs an HA nameservice (each NameNode its own conf dir)"
    );
    let addrs: Vec<SocketAddr> = (0..jns.len()).map(|j| jns.addr(j)).collect();
    let mut out: Vec<(usize, JournalPartition)> = Vec::new();
    for &i in partitionable {
        assert!(i < namenodes, "no NameNode index {i} (of {namenodes})");
        if !out.iter().any(|(k, _)| *k == i) {
            out.push((i, JournalPartition::start(&addrs, TEST_JOURNAL_ID)));
        }
    }
    out
}

impl MiniCluster {
    /// The `qjournal://` URI NameNode `i` (and its controller) use when it is
    /// partitionable: the proxies' ports, the same journal id.
    pub(crate) fn partitioned_shared_edits(&self, i: usize) -> Option<String> {
        self.journal_partitions
            .iter()
            .find(|(k, _)| *k == i)
            .map(|(_, p)| p.uri())
    }

    /// The proxies between NameNode `i`'s host and the JournalNodes.
    #[track_caller]
    pub fn journal_partition(&self, i: usize) -> &JournalPartition {
        self.journal_partitions
            .iter()
            .find(|(k, _)| *k == i)
            .map(|(_, p)| p)
            .unwrap_or_else(|| panic!("NameNode index {i} is not .partitionable_namenode({i})"))
    }

    /// Cuts NameNode `i`'s host (the NameNode and its controller) off from every
    /// JournalNode (blackholed links, see the module doc).
    #[track_caller]
    pub fn cut_from_journalnodes(&self, i: usize) {
        let p = self.journal_partition(i);
        p.cut(&(0..p.len()).collect::<Vec<_>>());
    }

    /// Cuts NameNode `i`'s host off from the JournalNodes at these indexes only (e.g.
    /// `&[0, 1]`: a majority of three; `&[0]`: a minority).
    #[track_caller]
    pub fn cut_from_some_journalnodes(&self, i: usize, journalnodes: &[usize]) {
        self.journal_partition(i).cut(journalnodes);
    }

    /// Heals every link of NameNode `i`'s host.
    #[track_caller]
    pub fn heal_journalnodes(&self, i: usize) {
        self.journal_partition(i).heal();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;

    /// An echo server answering each line; returns its address.
    fn echo_server() -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        std::thread::spawn(move || {
            for s in l.incoming().take(8) {
                let Ok(s) = s else { return };
                std::thread::spawn(move || {
                    let mut r = std::io::BufReader::new(s.try_clone().unwrap());
                    let mut w = s;
                    let mut line = String::new();
                    while r.read_line(&mut line).is_ok_and(|n| n > 0) {
                        if w.write_all(line.as_bytes()).is_err() {
                            return;
                        }
                        line.clear();
                    }
                });
            }
        });
        addr
    }

    fn ask(s: &mut TcpStream, r: &mut std::io::BufReader<TcpStream>, q: &str) -> String {
        s.write_all(format!("{q}\n").as_bytes()).unwrap();
        let mut a = String::new();
        r.read_line(&mut a)
            .map(|_| a.trim_end().to_string())
            .unwrap_or_default()
    }

    #[test]
    fn forwards_blackholes_when_cut_and_delivers_after_heal() {
        let proxy = PartitionProxy::start(echo_server());
        let mut s = TcpStream::connect(proxy.addr()).unwrap();
        let mut r = std::io::BufReader::new(s.try_clone().unwrap());
        assert_eq!(ask(&mut s, &mut r, "one"), "one");
        assert_eq!(proxy.live_connections(), 1);

        proxy.cut();
        s.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        s.write_all(b"two\n").unwrap();
        let mut a = String::new();
        let e = r.read_line(&mut a).unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
            "{e}"
        );
        // A new connection gets no service either (held in the backlog).
        let mut s2 = TcpStream::connect(proxy.addr()).unwrap();
        s2.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut r2 = std::io::BufReader::new(s2.try_clone().unwrap());
        s2.write_all(b"three\n").unwrap();
        assert!(r2.read_line(&mut String::new()).is_err());

        proxy.heal();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s2.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut a = String::new();
        r.read_line(&mut a).unwrap();
        assert_eq!(a, "two\n", "held bytes delivered after heal");
        let mut a2 = String::new();
        r2.read_line(&mut a2).unwrap();
        assert_eq!(a2, "three\n", "a waiting connection is served after heal");
        assert_eq!(proxy.live_connections(), 2);
    }

    #[test]
    fn partition_uri_names_the_proxies_and_cuts_only_some() {
        let targets = [echo_server(), echo_server(), echo_server()];
        let p = JournalPartition::start(&targets, "jid");
        let uri = p.uri();
        assert!(uri.starts_with("qjournal://127.0.0.1:"), "{uri}");
        assert!(uri.ends_with("/jid"), "{uri}");
        for (j, target) in targets.iter().enumerate() {
            assert!(uri.contains(&p.proxy(j).addr().to_string()));
            assert_eq!(p.proxy(j).target(), *target);
        }
        p.cut(&[0, 1]);
        assert!(p.proxy(0).is_cut() && p.proxy(1).is_cut() && !p.proxy(2).is_cut());
        p.heal();
        assert!((0..3).all(|j| !p.proxy(j).is_cut()));
    }
}
