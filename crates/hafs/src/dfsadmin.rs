//! `hafs dfsadmin`: Hadoop's DFSAdmin commands that exist so far.
//!
//! In an HA nameservice, as in Hadoop: `-safemode`, `-saveNamespace`, `-refreshNodes`
//! and the two `-refresh*` user-mapping commands go to every NameNode of the nameservice in turn (one line each, naming it); `-rollEdits` and
//! `-report` go to the Active through the failover proxy, as do the quota commands
//! (`quota.rs`). With `-fs hdfs://host:port`
//! only that NameNode is asked, and the output is the single-NameNode one.
//! `-refreshNamenodes`, `-deleteBlockPool`, `-getBalancerBandwidth` and
//! `-getDatanodeInfo` ask the one DataNode named (`datanode_admin.rs`).

mod datanode_admin;
pub mod nameservice;
mod quota;

use hafs_client::proto::SafeModeActionProto;
use hafs_client::{ClientError, DfsClient};
use hafs_conf::Configuration;

use nameservice::NameNodeTarget;

const USAGE: &str = "Usage: hafs dfsadmin
\t[-report [-live] [-dead] [-decommissioning] [-enteringmaintenance] [-inmaintenance]]
\t[-safemode <enter | leave | get | wait | forceExit>]
\t[-saveNamespace]
\t[-rollEdits]
\t[-refreshNodes]
\t[-setBalancerBandwidth <bandwidth in bytes per second>]
\t[-getBalancerBandwidth <datanode_host:ipc_port>]
\t[-refreshUserToGroupsMappings]
\t[-refreshSuperUserGroupsConfiguration]
\t[-refreshNamenodes datanode-host:port]
\t[-deleteBlockPool datanode-host:port blockpoolId [force]]
\t[-allowSnapshot <snapshotDir>]
\t[-disallowSnapshot <snapshotDir>]
\t[-help]";

/// Hadoop's DFSAdmin answers every failure with -1 (the process exits 255).
const FAILED: i32 = -1;

/// A failure of one command: the message printed after `<command>: `.
struct Failure(String);

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Failure {
        Failure(e.user_message())
    }
}

/// A NameNode's failure, named (the operator must know which one refused).
fn failure_of(nn: &NameNodeTarget, e: ClientError) -> Failure {
    Failure(format!("{}: {}", nn.shown, e.user_message()))
}

pub async fn run(conf: &Configuration, args: &[String]) -> anyhow::Result<i32> {
    let Some(cmd) = args.first() else {
        eprintln!("{USAGE}");
        return Ok(FAILED);
    };
    if matches!(cmd.as_str(), "-help" | "-h") {
        println!("{USAGE}");
        return Ok(0);
    }
    // Commands for one DataNode: no NameNode is involved.
    let datanode_command = match cmd.as_str() {
        "-refreshNamenodes" => Some(datanode_admin::refresh_namenodes(&args[1..]).await),
        "-deleteBlockPool" => Some(datanode_admin::delete_block_pool(&args[1..]).await),
        "-getBalancerBandwidth" => Some(datanode_admin::get_balancer_bandwidth(&args[1..]).await),
        "-getDatanodeInfo" => Some(datanode_admin::get_datanode_info(&args[1..]).await),
        _ => None,
    };
    if let Some(outcome) = datanode_command {
        return Ok(match outcome {
            None => FAILED,
            Some(result) => finish(cmd, result),
        });
    }
    let nameservice = nameservice::logical_authority(conf);
    let client = DfsClient::new(conf, None)?;
    if let Some(q) = quota::QuotaCommand::parse(cmd) {
        return Ok(quota::run(&client, q, &args[1..]).await);
    }
    let result = match cmd.as_str() {
        "-safemode" => {
            let Some(action) = safemode_action(args.get(1).map(String::as_str)) else {
                eprintln!(
                    "Usage: hafs dfsadmin [-safemode enter | leave | get | wait | forceExit]"
                );
                return Ok(FAILED);
            };
            match &nameservice {
                Some(ns) => safemode_all(conf, ns, action).await,
                None => safemode(&client, action).await,
            }
        }
        "-saveNamespace" => match &nameservice {
            Some(ns) => save_namespace_all(conf, ns).await,
            None => save_namespace(&client).await,
        },
        "-refreshNodes" => match &nameservice {
            Some(ns) => refresh_nodes_all(conf, ns).await,
            None => client
                .refresh_nodes()
                .await
                .map(|()| {
                    println!("Refresh nodes successful");
                    0
                })
                .map_err(Failure::from),
        },
        "-rollEdits" => client
            .roll_edits()
            .await
            .map(|txid| {
                println!("Successfully rolled edit logs.");
                println!("New segment starts at txid {txid}");
                0
            })
            .map_err(Failure::from),
        "-setBalancerBandwidth" => {
            let usage =
                "Usage: hafs dfsadmin [-setBalancerBandwidth <bandwidth in bytes per second>]";
            let Some(word) = args.get(1).filter(|_| args.len() == 2) else {
                eprintln!("{usage}");
                return Ok(FAILED);
            };
            let Some(bandwidth) = hafs_conf::parse::parse_size(word) else {
                eprintln!("NumberFormatException: For input string: \"{word}\"\n{usage}");
                return Ok(FAILED);
            };
            if bandwidth < 0 {
                eprintln!("Bandwidth should be a non-negative integer");
                return Ok(FAILED);
            }
            match &nameservice {
                Some(ns) => set_balancer_bandwidth_all(conf, ns, bandwidth).await,
                None => client
                    .set_balancer_bandwidth(bandwidth)
                    .await
                    .map(|()| {
                        println!("Balancer bandwidth is set to {bandwidth}");
                        0
                    })
                    .map_err(Failure::from),
            }
        }
        "-report" => {
            let Some(filter) = ReportFilter::parse(&args[1..]) else {
                eprintln!(
                    "Usage: hafs dfsadmin [-report] [-live] [-dead] [-decommissioning] [-enteringmaintenance] [-inmaintenance]"
                );
                return Ok(FAILED);
            };
            report(&client, filter).await.map_err(Failure::from)
        }
        "-printTopology" => print_topology(&client).await.map_err(Failure::from),
        "-allowSnapshot" | "-disallowSnapshot" => {
            let allow = cmd == "-allowSnapshot";
            let Some(dir) = args.get(1).filter(|_| args.len() == 2) else {
                eprintln!("Usage: hafs dfsadmin [{cmd} <snapshotDir>]");
                return Ok(FAILED);
            };
            let r = if allow {
                client.allow_snapshot(dir).await
            } else {
                client.disallow_snapshot(dir).await
            };
            r.map(|()| {
                let verb = if allow { "Allowing" } else { "Disallowing" };
                println!("{verb} snapshot on {dir} succeeded");
                0
            })
            .map_err(Failure::from)
        }
        "-refreshUserToGroupsMappings" => {
            refresh_user_mappings(conf, &nameservice, Refresh::UserToGroups).await
        }
        "-refreshSuperUserGroupsConfiguration" => {
            refresh_user_mappings(conf, &nameservice, Refresh::SuperUserGroups).await
        }
        other => {
            eprintln!(
                "{}: Unknown command",
                &other[other.starts_with('-') as usize..]
            );
            eprintln!("{USAGE}");
            return Ok(FAILED);
        }
    };
    Ok(finish(cmd, result))
}

/// The exit code of a command, printing its failure as Hadoop does (`<command>: ...`).
fn finish(cmd: &str, result: Result<i32, Failure>) -> i32 {
    match result {
        Ok(code) => code,
        Err(Failure(msg)) => {
            let cmd = cmd.trim_start_matches('-');
            eprintln!("{cmd}: {msg}");
            FAILED
        }
    }
}

/// `-safemode <action>`: the RPC action, and whether to wait for safe mode to end.
#[derive(Clone, Copy)]
struct SafeModeCall {
    action: SafeModeActionProto,
    wait: bool,
}

fn safemode_action(word: Option<&str>) -> Option<SafeModeCall> {
    let (action, wait) = match word? {
        "enter" => (SafeModeActionProto::SafemodeEnter, false),
        "leave" => (SafeModeActionProto::SafemodeLeave, false),
        "forceExit" => (SafeModeActionProto::SafemodeForceExit, false),
        "get" => (SafeModeActionProto::SafemodeGet, false),
        "wait" => (SafeModeActionProto::SafemodeGet, true),
        _ => return None,
    };
    Some(SafeModeCall { action, wait })
}

/// One NameNode's safe mode after `call` (waiting, if asked, until it is off — Hadoop's
/// wait has no bound either; the operator interrupts it).
async fn safemode_on(client: &DfsClient, call: SafeModeCall) -> Result<bool, ClientError> {
    let mut on = client.set_safe_mode(call.action, false).await?;
    while call.wait && on {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        on = client
            .set_safe_mode(SafeModeActionProto::SafemodeGet, false)
            .await?;
    }
    Ok(on)
}

fn on_off(on: bool) -> &'static str {
    if on {
        "ON"
    } else {
        "OFF"
    }
}

async fn safemode(client: &DfsClient, call: SafeModeCall) -> Result<i32, Failure> {
    let on = safemode_on(client, call).await?;
    println!("Safe mode is {}", on_off(on));
    Ok(0)
}

/// Every NameNode in turn; the first that fails ends the command (as Hadoop's).
async fn safemode_all(conf: &Configuration, ns: &str, call: SafeModeCall) -> Result<i32, Failure> {
    for nn in nameservice::all_namenodes(conf, ns).await? {
        let on = safemode_on(&nn.client, call)
            .await
            .map_err(|e| failure_of(&nn, e))?;
        println!("Safe mode is {} in {}", on_off(on), nn.shown);
    }
    Ok(0)
}

async fn save_namespace(client: &DfsClient) -> Result<i32, Failure> {
    if client.save_namespace(0, 0).await? {
        println!("Save namespace successful");
    } else {
        println!("No extra checkpoint has been made");
    }
    Ok(0)
}

/// Every NameNode, even after one failed; then one error naming all that failed.
async fn save_namespace_all(conf: &Configuration, ns: &str) -> Result<i32, Failure> {
    let mut failed = Vec::new();
    for nn in nameservice::all_namenodes(conf, ns).await? {
        match nn.client.save_namespace(0, 0).await {
            Ok(true) => println!("Save namespace successful for {}", nn.shown),
            Ok(false) => println!("No extra checkpoint has been made for {}", nn.shown),
            Err(e) => {
                println!("Save namespace failed for {}", nn.shown);
                failed.push(failure_of(&nn, e).0);
            }
        }
    }
    match failed.len() {
        0 => Ok(0),
        1 => Err(Failure(failed.remove(0))),
        n => Err(Failure(format!("{n} exceptions [{}]", failed.join(", ")))),
    }
}

/// `-setBalancerBandwidth` in an HA nameservice: every NameNode is told (the Active
/// passes it to the DataNodes; a Standby has it ready should it become Active).
async fn set_balancer_bandwidth_all(
    conf: &Configuration,
    ns: &str,
    bandwidth: i64,
) -> Result<i32, Failure> {
    let mut failed = Vec::new();
    for nn in nameservice::all_namenodes(conf, ns).await? {
        match nn.client.set_balancer_bandwidth(bandwidth).await {
            Ok(()) => println!("Balancer bandwidth is set to {bandwidth} for {}", nn.shown),
            Err(e) => failed.push(failure_of(&nn, e).0),
        }
    }
    match failed.len() {
        0 => Ok(0),
        1 => Err(Failure(failed.remove(0))),
        n => Err(Failure(format!("{n} exceptions [{}]", failed.join(", ")))),
    }
}

/// `-refreshNodes` on every NameNode (even after one failed, so that the others
/// still apply the new lists); then one error naming all that failed.
async fn refresh_nodes_all(conf: &Configuration, ns: &str) -> Result<i32, Failure> {
    let mut failed = Vec::new();
    for nn in nameservice::all_namenodes(conf, ns).await? {
        match nn.client.refresh_nodes().await {
            Ok(()) => println!("Refresh nodes successful for {}", nn.shown),
            Err(e) => {
                println!("Refresh nodes failed for {}", nn.shown);
                failed.push(failure_of(&nn, e).0);
            }
        }
    }
    match failed.len() {
        0 => Ok(0),
        1 => Err(Failure(failed.remove(0))),
        n => Err(Failure(format!("{n} exceptions [{}]", failed.join(", ")))),
    }
}

/// The two RefreshUserMappingsProtocol calls, with Hadoop's words for each.
#[derive(Clone, Copy)]
enum Refresh {
    UserToGroups,
    SuperUserGroups,
}

impl Refresh {
    fn what(self) -> &'static str {
        match self {
            Refresh::UserToGroups => "Refresh user to groups mapping",
            Refresh::SuperUserGroups => "Refresh super user groups configuration",
        }
    }

    async fn call(self, addr: &str) -> Result<(), hafs_ipc::IpcError> {
        use hafs_proto::common as pb;
        let rpc = hafs_ipc::RpcClient::new(
            addr.to_string(),
            "org.apache.hadoop.security.RefreshUserMappingsProtocol",
            hafs_ipc::ClientConfig::new(hafs_client::identity::current_user()),
        );
        match self {
            Refresh::UserToGroups => {
                let _: pb::RefreshUserToGroupsMappingsResponseProto = rpc
                    .call(
                        "refreshUserToGroupsMappings",
                        &pb::RefreshUserToGroupsMappingsRequestProto {},
                    )
                    .await?;
            }
            Refresh::SuperUserGroups => {
                let _: pb::RefreshSuperUserGroupsConfigurationResponseProto = rpc
                    .call(
                        "refreshSuperUserGroupsConfiguration",
                        &pb::RefreshSuperUserGroupsConfigurationRequestProto {},
                    )
                    .await?;
            }
        }
        Ok(())
    }
}

/// `-refreshUserToGroupsMappings` / `-refreshSuperUserGroupsConfiguration`: every
/// NameNode of an HA nameservice (each line naming it, as Hadoop prints them), else
/// the one NameNode of `fs.defaultFS`.
async fn refresh_user_mappings(
    conf: &Configuration,
    nameservice: &Option<String>,
    refresh: Refresh,
) -> Result<i32, Failure> {
    let what = refresh.what();
    let message = |e: hafs_ipc::IpcError| ClientError::from(e).user_message();
    let Some(ns) = nameservice else {
        let addr = conf
            .get_trimmed(hafs_conf::keys::FS_DEFAULT_FS)
            .and_then(|u| {
                u.strip_prefix("hdfs://")
                    .map(|r| r.split('/').next().unwrap_or("").to_string())
            })
            .filter(|a| !a.is_empty())
            .ok_or_else(|| Failure("fs.defaultFS is not an hdfs:// address".into()))?;
        refresh.call(&addr).await.map_err(|e| Failure(message(e)))?;
        println!("{what} successful");
        return Ok(0);
    };
    let mut failed = Vec::new();
    for nn in nameservice::all_namenodes(conf, ns).await? {
        match refresh.call(&nn.addr).await {
            Ok(()) => println!("{what} successful for {}", nn.shown),
            Err(e) => {
                println!("{what} failed for {}", nn.shown);
                failed.push(format!("{}: {}", nn.shown, message(e)));
            }
        }
    }
    match failed.len() {
        0 => Ok(0),
        1 => Err(Failure(failed.remove(0))),
        n => Err(Failure(format!("{n} exceptions [{}]", failed.join(", ")))),
    }
}

/// Which node lists `-report` prints (Hadoop's filter flags; none: all of them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ReportFilter {
    live: bool,
    dead: bool,
    decommissioning: bool,
    entering_maintenance: bool,
    in_maintenance: bool,
}

impl ReportFilter {
    /// The flags after `-report`; `None` for a word that is not one.
    fn parse(words: &[String]) -> Option<ReportFilter> {
        let mut f = ReportFilter::default();
        for w in words {
            match w.as_str() {
                "-live" => f.live = true,
                "-dead" => f.dead = true,
                "-decommissioning" => f.decommissioning = true,
                "-enteringmaintenance" => f.entering_maintenance = true,
                "-inmaintenance" => f.in_maintenance = true,
                _ => return None,
            }
        }
        Some(f)
    }

    fn all(self) -> bool {
        self == ReportFilter::default()
    }
}

/// One list of `-report`: its title, whether its flag was given, its nodes.
struct NodeSection {
    title: &'static str,
    asked: bool,
    nodes: Vec<hafs_client::proto::DatanodeInfoProto>,
}

async fn report(client: &DfsClient, filter: ReportFilter) -> Result<i32, hafs_client::ClientError> {
    use hafs_client::proto::DatanodeReportTypeProto as Kind;
    let s = client.get_fs_stats().await?;
    let all = filter.all();
    let mut sections = Vec::new();
    for (title, asked, kind) in [
        ("Live", filter.live, Kind::Live),
        ("Dead", filter.dead, Kind::Dead),
        (
            "Decommissioning",
            filter.decommissioning,
            Kind::Decommissioning,
        ),
        (
            "Entering maintenance",
            filter.entering_maintenance,
            Kind::EnteringMaintenance,
        ),
        ("In maintenance", filter.in_maintenance, Kind::InMaintenance),
    ] {
        if all || asked {
            sections.push(NodeSection {
                title,
                // The full report always heads the live and dead lists.
                asked: asked || (all && matches!(kind, Kind::Live | Kind::Dead)),
                nodes: client.get_datanode_report(kind).await?,
            });
        }
    }
    print!("{}", report_text(&s, &sections, now_ms()));
    Ok(0)
}

/// `-printTopology`: every DataNode the NameNode knows, by rack (racks sorted), in
/// Hadoop 3.5's layout: "Rack: /r", then "   ip:port (hostname) <admin state>" per
/// node, a blank line after each rack. Hadoop lists a rack's nodes in hash order;
/// hafs sorts them.
async fn print_topology(client: &DfsClient) -> Result<i32, hafs_client::ClientError> {
    use hafs_client::proto::DatanodeReportTypeProto as Kind;
    let all = client.get_datanode_report(Kind::All).await?;
    print!("{}", topology_text(&all));
    Ok(0)
}

/// Hadoop's DatanodeInfo.AdminStates names.
fn admin_state_name(state: Option<i32>) -> &'static str {
    match state.unwrap_or(0) {
        1 => "Decommission In Progress",
        2 => "Decommissioned",
        3 => "Entering Maintenance",
        4 => "In Maintenance",
        _ => "In Service",
    }
}

fn topology_text(nodes: &[hafs_client::proto::DatanodeInfoProto]) -> String {
    use std::collections::BTreeMap;
    use std::fmt::Write;
    let mut racks: BTreeMap<&str, BTreeMap<String, (&str, &str)>> = BTreeMap::new();
    for d in nodes {
        let rack = d.location.as_deref().unwrap_or("/default-rack");
        racks.entry(rack).or_default().insert(
            format!("{}:{}", d.id.ip_addr, d.id.xfer_port),
            (d.id.host_name.as_str(), admin_state_name(d.admin_state)),
        );
    }
    let mut o = String::new();
    for (rack, nodes) in racks {
        let _ = writeln!(o, "Rack: {rack}");
        for (name, (host, state)) in nodes {
            let _ = writeln!(o, "   {name} ({host}) {state}");
        }
        o.push('\n');
    }
    o
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Hadoop's StringUtils.byteDesc: binary prefixes, two decimals ("1.50 GB", "512 B").
fn byte_desc(n: u64) -> String {
    const UNITS: [&str; 6] = ["KB", "MB", "GB", "TB", "PB", "EB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < UNITS.len() {
        v /= 1024.0;
        i += 1;
    }
    format!("{v:.2} {}", UNITS[i])
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0.00%".to_string();
    }
    format!("{:.2}%", part as f64 * 100.0 / whole as f64)
}

/// Java's Date.toString in the local time zone: "Fri Nov 21 03:00:00 UTC 2025".
fn java_date(ms: u64) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = (ms / 1000) as libc::time_t;
    // SAFETY: localtime_r writes only the tm we own; used only when it succeeds.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    if unsafe { libc::localtime_r(&t, &mut tm).is_null() } {
        return format!("{} ms since the epoch", ms);
    }
    let zone = if tm.tm_zone.is_null() {
        "UTC".to_string()
    } else {
        // SAFETY: tm_zone points at a NUL-terminated static string set by localtime_r.
        unsafe { std::ffi::CStr::from_ptr(tm.tm_zone) }
            .to_string_lossy()
            .into_owned()
    };
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} {} {}",
        DAYS[tm.tm_wday.clamp(0, 6) as usize],
        MONTHS[tm.tm_mon.clamp(0, 11) as usize],
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        zone,
        tm.tm_year as i64 + 1900
    )
}

/// `dfsadmin -report` in Hadoop's layout.
fn report_text(
    s: &hafs_client::proto::GetFsStatsResponseProto,
    sections: &[NodeSection],
    now_ms: u64,
) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let present = s.remaining + s.used;
    let _ = writeln!(
        o,
        "Configured Capacity: {} ({})",
        s.capacity,
        byte_desc(s.capacity)
    );
    let _ = writeln!(o, "Present Capacity: {} ({})", present, byte_desc(present));
    let _ = writeln!(
        o,
        "DFS Remaining: {} ({})",
        s.remaining,
        byte_desc(s.remaining)
    );
    let _ = writeln!(o, "DFS Used: {} ({})", s.used, byte_desc(s.used));
    let _ = writeln!(o, "DFS Used%: {}", percent(s.used, present));
    let _ = writeln!(o, "Replicated Blocks:");
    let _ = writeln!(o, "\tUnder replicated blocks: {}", s.under_replicated);
    let _ = writeln!(o, "\tBlocks with corrupt replicas: {}", s.corrupt_blocks);
    let _ = writeln!(o, "\tMissing blocks: {}", s.missing_blocks);
    let _ = writeln!(
        o,
        "\tMissing blocks (with replication factor 1): {}",
        s.missing_repl_one_blocks.unwrap_or(0)
    );
    let _ = writeln!(
        o,
        "\tPending deletion blocks: {}",
        s.pending_deletion_blocks.unwrap_or(0)
    );
    let _ = writeln!(o);
    let _ = writeln!(o, "-------------------------------------------------");
    for sec in sections {
        // A list is headed when it has nodes or was asked for, as Hadoop prints it.
        if sec.nodes.is_empty() && !sec.asked {
            continue;
        }
        let _ = writeln!(o, "{} datanodes ({}):", sec.title, sec.nodes.len());
        let _ = writeln!(o);
        for d in &sec.nodes {
            node_text(&mut o, d, now_ms);
        }
    }
    o
}

fn node_text(o: &mut String, d: &hafs_client::proto::DatanodeInfoProto, now_ms: u64) {
    use std::fmt::Write;
    let cap = d.capacity.unwrap_or(0);
    let used = d.dfs_used.unwrap_or(0);
    let rem = d.remaining.unwrap_or(0);
    let non_dfs = d
        .non_dfs_used
        .unwrap_or_else(|| cap.saturating_sub(used).saturating_sub(rem));
    let last = d.last_update.unwrap_or(0);
    let status = match d.admin_state.unwrap_or(0) {
        1 => "Decommission in progress",
        2 => "Decommissioned",
        3 => "Entering maintenance",
        4 => "In maintenance",
        _ => "Normal",
    };
    let _ = writeln!(
        o,
        "Name: {}:{} ({})",
        d.id.ip_addr, d.id.xfer_port, d.id.host_name
    );
    let _ = writeln!(o, "Hostname: {}", d.id.host_name);
    if let Some(rack) = d.location.as_deref().filter(|r| *r != "/default-rack") {
        let _ = writeln!(o, "Rack: {rack}");
    }
    let _ = writeln!(o, "Decommission Status : {status}");
    let _ = writeln!(o, "Configured Capacity: {} ({})", cap, byte_desc(cap));
    let _ = writeln!(o, "DFS Used: {} ({})", used, byte_desc(used));
    let _ = writeln!(o, "Non DFS Used: {} ({})", non_dfs, byte_desc(non_dfs));
    let _ = writeln!(o, "DFS Remaining: {} ({})", rem, byte_desc(rem));
    let _ = writeln!(o, "DFS Used%: {}", percent(used, cap));
    let _ = writeln!(o, "DFS Remaining%: {}", percent(rem, cap));
    let _ = writeln!(o, "Configured Cache Capacity: 0 (0 B)");
    let _ = writeln!(o, "Cache Used: 0 (0 B)");
    let _ = writeln!(o, "Cache Remaining: 0 (0 B)");
    let _ = writeln!(o, "Cache Used%: 100.00%");
    let _ = writeln!(o, "Cache Remaining%: 0.00%");
    let _ = writeln!(o, "Xceivers: {}", d.xceiver_count.unwrap_or(0));
    let _ = writeln!(o, "Last contact: {}", java_date(last));
    if let Some(br) = d.last_block_report_time.filter(|t| *t > 0) {
        let mins = now_ms.saturating_sub(br) / 60_000;
        let _ = writeln!(
            o,
            "Last Block Report: {} ({} minute(s) ago)",
            java_date(br),
            mins
        );
    }
    if let Some(n) = d.num_blocks {
        let _ = writeln!(o, "Num of Blocks: {n}");
    }
    let _ = writeln!(o);
    let _ = writeln!(o);
}

#[cfg(test)]
mod tests {
    use super::*;
    use hafs_client::proto as pb;

    #[test]
    fn byte_desc_is_hadoops() {
        assert_eq!(byte_desc(0), "0 B");
        assert_eq!(byte_desc(1023), "1023 B");
        assert_eq!(byte_desc(1536), "1.50 KB");
        assert_eq!(byte_desc(3 << 30), "3.00 GB");
        assert_eq!(percent(1, 3), "33.33%");
        assert_eq!(percent(1, 0), "0.00%");
    }

    #[test]
    fn topology_layout() {
        let dn = |ip: &str, rack: Option<&str>| pb::DatanodeInfoProto {
            id: pb::DatanodeIdProto {
                ip_addr: ip.into(),
                host_name: ip.into(),
                datanode_uuid: ip.into(),
                xfer_port: 9866,
                info_port: 9864,
                ipc_port: 9867,
                info_secure_port: None,
            },
            location: rack.map(str::to_string),
            ..Default::default()
        };
        let t = topology_text(&[
            dn("127.0.0.5", Some("/rack2")),
            dn("127.0.0.3", Some("/rack1")),
            dn("127.0.0.2", Some("/rack1")),
            dn("127.0.0.9", None),
        ]);
        assert_eq!(
            t,
            "Rack: /default-rack\n   127.0.0.9:9866 (127.0.0.9) In Service\n\n\
             Rack: /rack1\n   127.0.0.2:9866 (127.0.0.2) In Service\n   127.0.0.3:9866 (127.0.0.3) In Service\n\n\
             Rack: /rack2\n   127.0.0.5:9866 (127.0.0.5) In Service\n\n"
        );
    }

    #[test]
    fn report_layout() {
        let s = pb::GetFsStatsResponseProto {
            capacity: 100 << 30,
            used: 1 << 30,
            remaining: 90 << 30,
            under_replicated: 2,
            corrupt_blocks: 1,
            missing_blocks: 0,
            missing_repl_one_blocks: Some(0),
            blocks_in_future: Some(0),
            pending_deletion_blocks: Some(3),
        };
        let node = pb::DatanodeInfoProto {
            id: pb::DatanodeIdProto {
                ip_addr: "127.0.0.1".into(),
                host_name: "localhost".into(),
                datanode_uuid: "u".into(),
                xfer_port: 9866,
                info_port: 9864,
                ipc_port: 9867,
                info_secure_port: None,
            },
            capacity: Some(100 << 30),
            dfs_used: Some(1 << 30),
            remaining: Some(90 << 30),
            last_update: Some(1_700_000_000_000),
            xceiver_count: Some(4),
            ..Default::default()
        };
        let section = |title, asked, nodes| NodeSection {
            title,
            asked,
            nodes,
        };
        let mut entering = node.clone();
        entering.admin_state = Some(3);
        let t = report_text(
            &s,
            &[
                section("Live", true, vec![node]),
                section("Dead", true, vec![]),
                section("Decommissioning", false, vec![]),
                section("Entering maintenance", false, vec![entering]),
                section("In maintenance", false, vec![]),
            ],
            1_700_000_000_000,
        );
        assert!(
            t.starts_with("Configured Capacity: 107374182400 (100.00 GB)\n"),
            "{t}"
        );
        assert!(t.contains("\tUnder replicated blocks: 2\n"));
        assert!(t.contains("\tBlocks with corrupt replicas: 1\n"));
        assert!(t.contains("Live datanodes (1):\n\nName: 127.0.0.1:9866 (localhost)\nHostname: localhost\nDecommission Status : Normal\nConfigured Capacity: 107374182400 (100.00 GB)\nDFS Used: 1073741824 (1.00 GB)\nNon DFS Used: 9663676416 (9.00 GB)\n"), "{t}");
        assert!(t.contains("Xceivers: 4\nLast contact: "), "{t}");
        assert!(t.contains("2023"), "{t}");
        assert!(t.contains("Dead datanodes (0):"));
        // Unasked empty lists are left out; a non-empty one is headed.
        assert!(!t.contains("Decommissioning datanodes"), "{t}");
        assert!(!t.contains("In maintenance datanodes"), "{t}");
        assert!(
            t.contains("Entering maintenance datanodes (1):\n\nName: 127.0.0.1:9866 (localhost)\nHostname: localhost\nDecommission Status : Entering maintenance\n"),
            "{t}"
        );
    }

    #[test]
    fn report_filter_flags() {
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(ReportFilter::parse(&[]).unwrap().all());
        let f = ReportFilter::parse(&words(&["-enteringmaintenance", "-inmaintenance"])).unwrap();
        assert!(f.entering_maintenance && f.in_maintenance && !f.live && !f.all());
        assert_eq!(ReportFilter::parse(&words(&["-maintenance"])), None);
    }
}
