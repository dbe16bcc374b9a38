//! `hafs datanode`: run a DataNode.

use std::io::Write;

use hafs_conf::Configuration;
use hafs_datanode::datanode::{ConfReload, DataNode, DataNodeConfig};

use crate::cli::Invocation;

const USAGE: &str = "Usage: hafs datanode";

/// How `refreshNamenodes` re-reads this DataNode's configuration: the conf dir's site
/// files again, then the command line's generic options (`-D`, `-conf`) over them.
pub fn reload_of(inv: &Invocation) -> ConfReload {
    let inv = inv.clone();
    ConfReload(std::sync::Arc::new(move || {
        inv.load_conf()
            .map(|(conf, _)| conf)
            .map_err(|e| format!("{e:#}"))
    }))
}

pub async fn run(conf: Configuration, args: &[String], reload: ConfReload) -> anyhow::Result<i32> {
    match args.first().map(String::as_str) {
        None => {}
        Some("-h" | "-help" | "--help") => {
            println!("{USAGE}");
            return Ok(0);
        }
        Some(other) => {
            eprintln!("hafs datanode: unknown option '{other}'\n{USAGE}");
            return Ok(1);
        }
    }
    let mut config = DataNodeConfig::from_conf(&conf)?;
    config.reload = Some(reload);
    crate::security::login_daemon(
        &conf,
        hafs_ipc::auth::ServiceRole::DataNode,
        &config.ipc_bind.ip().to_string(),
    )?;
    let dn = DataNode::start(config).await?;
    // Tests and scripts wait for this line.
    println!(
        "datanode ready: xfer {} ipc {} uuid {}",
        dn.xfer_addr(),
        dn.ipc_addr(),
        dn.datanode_uuid()
    );
    let _ = std::io::stdout().flush();
    dn.run(crate::shutdown::shutdown_signal()).await?;
    Ok(0)
}
