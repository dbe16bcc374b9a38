//! Which process is the NameNode, so the benchmark can read its resident memory: this
//! process when the NameNode runs in it, `-nnpid PID` when given, else (for `-fs` with
//! a local address) the process listening on the NameNode's port, found the way `ss
//! -ltp` finds it: the listening socket's inode in /proc/net/tcp{,6}, then the process
//! holding a descriptor to that socket.

use std::path::Path;

/// Bounds on the /proc walk (processes, and descriptors per process).
const MAX_PROCS: usize = 100_000;
const MAX_FDS: usize = 100_000;

/// The state column's value for a listening socket in /proc/net/tcp.
const TCP_LISTEN: &str = "0A";

/// The inode of the socket listening on `port` in a /proc/net/tcp-format table.
pub fn listen_inode(table: &str, port: u16) -> Option<u64> {
    table.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        let local_port = f.get(1)?.rsplit(':').next()?;
        let matches = u16::from_str_radix(local_port, 16).ok()? == port && *f.get(3)? == TCP_LISTEN;
        matches.then(|| f.get(9)?.parse().ok()).flatten()
    })
}

/// The pid of the local process listening on TCP `port`, if this user can see it.
pub fn listener_pid(port: u16) -> Option<u32> {
    let inode = ["/proc/net/tcp", "/proc/net/tcp6"].iter().find_map(|p| {
        let table = std::fs::read_to_string(p).ok()?;
        listen_inode(&table, port)
    })?;
    let target = format!("socket:[{inode}]");
    let procs = std::fs::read_dir("/proc").ok()?;
    procs.flatten().take(MAX_PROCS).find_map(|entry| {
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        holds(&entry.path().join("fd"), &target).then_some(pid)
    })
}

fn holds(fd_dir: &Path, target: &str) -> bool {
    let Ok(fds) = std::fs::read_dir(fd_dir) else {
        return false;
    };
    fds.flatten()
        .take(MAX_FDS)
        .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l.as_os_str() == target))
}

/// `hdfs://host:port` → port, when host is this machine.
pub fn local_port(uri: &str) -> Option<u16> {
    let authority = uri.strip_prefix("hdfs://")?.split('/').next()?;
    let (host, port) = authority.rsplit_once(':')?;
    let local = matches!(
        host,
        "127.0.0.1" | "localhost" | "[::1]" | "::1" | "0.0.0.0"
    );
    local.then(|| port.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_listening_socket_in_a_proc_table() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0 100 0 0 10 0\n\
   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0 100 0 0 10 0\n";
        assert_eq!(listen_inode(table, 8080), Some(4242));
        assert_eq!(listen_inode(table, 8020), None);
        assert_eq!(local_port("hdfs://127.0.0.1:8020"), Some(8020));
        assert_eq!(local_port("hdfs://localhost:9000/"), Some(9000));
        assert_eq!(local_port("hdfs://nn1.example:8020"), None);
    }

    #[test]
    fn finds_this_process_listening() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        assert_eq!(listener_pid(port), Some(std::process::id()));
    }
}
