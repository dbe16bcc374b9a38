//! Several hosts on one machine: DataNode `n` (1-based) gets its own loopback address
//! `127.0.0.(n+1)` for its listeners and its connections to the NameNodes, so that the
//! NameNode sees distinct hosts, and a topology script (Hadoop's
//! `net.topology.script.file.name`) puts those addresses on racks.

use std::net::Ipv4Addr;
use std::path::Path;

use crate::error::{bail, Result};

/// The most DataNodes with their own address (127.0.0.2 ..= 127.0.0.254).
pub const MAX_HOSTS: usize = 253;

/// DataNode `n`'s (1-based) own loopback address.
pub fn datanode_ip(n: usize) -> Result<Ipv4Addr> {
    if n == 0 || n > MAX_HOSTS {
        bail!("DataNode {n} has no address of its own: 1 to {MAX_HOSTS} DataNodes can have one");
    }
    Ok(Ipv4Addr::new(127, 0, 0, (n + 1) as u8))
}

/// The rack of DataNode `n` of `count` spread over `racks` racks: consecutive
/// DataNodes share a rack (`/rack1` holds the first `count / racks`).
pub fn rack_of(n: usize, count: usize, racks: usize) -> String {
    let racks = racks.clamp(1, count.max(1));
    let index = (n.saturating_sub(1) * racks) / count.max(1);
    format!("/rack{}", index + 1)
}

/// Writes an executable topology script at `path` answering one rack per address
/// argument: each of `hosts` its rack, anything else `/default-rack`.
pub fn write_topology_script(path: &Path, hosts: &[(Ipv4Addr, String)]) -> Result<()> {
    let mut s = String::from(
        "#!/bin/sh\n# Written by hafs: which rack each DataNode address is on.\nfor host in \"$@\"; do\n  case \"$host\" in\n",
    );
    for (ip, rack) in hosts {
        if !rack.starts_with('/') || rack.chars().any(|c| c.is_whitespace() || c == '\'') {
            bail!("rack {rack:?} is not an absolute path without spaces or quotes");
        }
        s.push_str(&format!("    {ip}) echo '{rack}' ;;\n"));
    }
    s.push_str("    *) echo /default-rack ;;\n  esac\ndone\n");
    std::fs::write(path, s)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_racks() {
        assert_eq!(datanode_ip(1).unwrap(), Ipv4Addr::new(127, 0, 0, 2));
        assert_eq!(datanode_ip(253).unwrap(), Ipv4Addr::new(127, 0, 0, 254));
        assert!(datanode_ip(0).is_err());
        assert!(datanode_ip(254).is_err());
        let racks: Vec<String> = (1..=6).map(|n| rack_of(n, 6, 2)).collect();
        assert_eq!(
            racks,
            ["/rack1", "/rack1", "/rack1", "/rack2", "/rack2", "/rack2"]
        );
        let racks: Vec<String> = (1..=3).map(|n| rack_of(n, 3, 2)).collect();
        assert_eq!(racks, ["/rack1", "/rack1", "/rack2"]);
        assert_eq!(rack_of(1, 3, 9), "/rack1");
    }

    #[test]
    fn the_script_answers_per_argument() {
        let dir = std::env::temp_dir().join(format!("hafs-topo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("topology.sh");
        write_topology_script(
            &path,
            &[
                (Ipv4Addr::new(127, 0, 0, 2), "/rack1".into()),
                (Ipv4Addr::new(127, 0, 0, 3), "/rack2".into()),
            ],
        )
        .unwrap();
        let out = std::process::Command::new(&path)
            .args(["127.0.0.3", "10.1.1.1", "127.0.0.2"])
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            "/rack2\n/default-rack\n/rack1\n"
        );
        assert!(write_topology_script(&path, &[(Ipv4Addr::LOCALHOST, "rack".into())]).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
