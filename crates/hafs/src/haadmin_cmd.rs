//! `hafs haadmin [-ns <nameserviceId>] <command>`: Hadoop's `hdfs haadmin` (DFSHAAdmin)
//! over HAServiceProtocol — the same commands, messages and exit statuses: 0 on
//! success, -1 (255) on a usage error or a failed operation, as Hadoop's tool returns.
//!
//! NameNode ids resolve through `dfs.ha.namenodes.<ns>` and
//! `dfs.namenode.rpc-address.<ns>.<id>`; the nameservice is `-ns`, else the only one
//! configured, else the one `fs.defaultFS` names.

use std::time::Duration;

use hafs_conf::Configuration;
use hafs_ha::{
    resolve_nameservice, FailoverController, FailoverTimeouts, HaServiceState, HaTarget,
    NodeFencer, RequestSource, HEALTH_CHECK_FAILED_EXCEPTION,
};
use hafs_ipc::{ClientConfig, IpcError};

const USAGE_HEAD: &str = "Usage: haadmin [-ns <nameserviceId>]";

/// Commands and their argument synopsis, in Hadoop's order.
const COMMANDS: &[(&str, Option<&str>, &str)] = &[
    (
        "-transitionToActive",
        Some("[--forceactive] <serviceId>"),
        "Transitions the service into Active state",
    ),
    (
        "-transitionToStandby",
        Some("<serviceId>"),
        "Transitions the service into Standby state",
    ),
    (
        "-transitionToObserver",
        Some("<serviceId>"),
        "Transitions the service into Observer state",
    ),
    (
        "-failover",
        Some("[--forcefence] [--forceactive] <serviceId> <serviceId>"),
        "Failover from the first service to the second.\n\
         Unconditionally fence services if the --forcefence option is used.\n\
         Try to failover to the target service even if it is not ready if the \
         --forceactive option is used.",
    ),
    (
        "-getServiceState",
        Some("<serviceId>"),
        "Returns the state of the service",
    ),
    (
        "-getAllServiceState",
        None,
        "Returns the state of all the services",
    ),
    (
        "-checkHealth",
        Some("<serviceId>"),
        "Requests that the service perform a health check.\n\
         The HAAdmin tool will exit with a non-zero exit code\n\
         if the check fails.",
    ),
    (
        "-help",
        Some("<command>"),
        "Displays help on the specified command",
    ),
];

const FORCEMANUAL_PROMPT: &str = "You have specified the --forcemanual flag. This flag is \
dangerous, as it can induce a split-brain scenario that WILL CORRUPT your HDFS namespace, \
possibly irrecoverably.\n\nIt is recommended not to use this flag, but instead to shut down \
the cluster and disable automatic failover if you prefer to manually manage your HA \
state.\n\nYou may abort safely by answering 'n' or hitting ^C now.\n\nAre you sure you \
want to continue?";

fn full_usage() -> String {
    let mut s = format!("{USAGE_HEAD}\n");
    for (cmd, args, _) in COMMANDS {
        match args {
            Some(a) => s.push_str(&format!("    [{cmd} {a}]\n")),
            None => s.push_str(&format!("    [{cmd}]\n")),
        }
    }
    s.push_str(
        "\nGeneric options supported are:\n\
         -conf <configuration file>        specify an application configuration file\n\
         -D <property=value>               define a value for a given property\n\
         -fs <file:///|hdfs://namenode:port> specify default filesystem URL to use\n",
    );
    s
}

fn command_usage(cmd: &str) -> String {
    match COMMANDS.iter().find(|(c, _, _)| *c == cmd) {
        Some((_, Some(a), _)) => format!("{USAGE_HEAD} [{cmd} {a}]"),
        _ => format!("{USAGE_HEAD} [{cmd}]"),
    }
}

/// The options a command accepts (GNU-style: `-name` or `--name`).
fn allowed_options(cmd: &str) -> &'static [&'static str] {
    match cmd {
        "-transitionToActive" => &["forceactive", "forcemanual"],
        "-transitionToStandby" | "-transitionToObserver" => &["forcemanual"],
        "-failover" => &["forcefence", "forceactive", "forcemanual"],
        _ => &[],
    }
}

struct Parsed {
    options: Vec<&'static str>,
    args: Vec<String>,
}

impl Parsed {
    fn has(&self, opt: &str) -> bool {
        self.options.contains(&opt)
    }
}

fn parse_opts(cmd: &str, words: &[String]) -> Option<Parsed> {
    let allowed = allowed_options(cmd);
    let mut parsed = Parsed {
        options: Vec::new(),
        args: Vec::new(),
    };
    for w in words {
        if w.starts_with('-') && w.len() > 1 {
            let name = w.trim_start_matches('-');
            match allowed.iter().find(|o| **o == name) {
                Some(o) => {
                    if !parsed.options.contains(o) {
                        parsed.options.push(o);
                    }
                }
                None => return None,
            }
        } else {
            parsed.args.push(w.clone());
        }
    }
    Some(parsed)
}

pub async fn run(conf: &Configuration, args: &[String]) -> anyhow::Result<i32> {
    let mut words = args;
    let mut ns: Option<String> = None;
    if words.first().map(String::as_str) == Some("-ns") {
        let Some(id) = words.get(1) else {
            eprintln!("Missing nameservice ID");
            eprint!("{}", full_usage());
            return Ok(-1);
        };
        ns = Some(id.clone());
        words = &words[2..];
        if words.is_empty() {
            eprintln!("Missing command");
            eprint!("{}", full_usage());
            return Ok(-1);
        }
    }
    let Some(cmd) = words.first() else {
        eprint!("{}", full_usage());
        return Ok(-1);
    };
    if !cmd.starts_with('-') {
        eprintln!("Bad command '{cmd}': expected command starting with '-'");
        eprint!("{}", full_usage());
        return Ok(-1);
    }
    if !COMMANDS.iter().any(|(c, _, _)| c == cmd) {
        eprintln!("{}: Unknown command", &cmd[1..]);
        eprint!("{}", full_usage());
        return Ok(-1);
    }
    if cmd == "-help" {
        return Ok(help(&words[1..]));
    }
    let Some(parsed) = parse_opts(cmd, &words[1..]) else {
        eprintln!("{}: incorrect arguments", &cmd[1..]);
        eprintln!("{}", command_usage(cmd));
        return Ok(-1);
    };
    let mut admin = Admin {
        conf,
        ns,
        source: RequestSource::User,
        timeouts: FailoverTimeouts::from_conf(conf),
    };
    if parsed.has("forcemanual") {
        if !confirm_force_manual().await {
            eprintln!("Aborted");
            return Ok(-1);
        }
        // The NameNodes honour a forced request even with automatic failover enabled.
        admin.source = RequestSource::UserForced;
    }
    let result = match cmd.as_str() {
        "-transitionToActive" => admin.transition_to_active(&parsed).await,
        "-transitionToStandby" => {
            admin
                .transition(&parsed, cmd, HaServiceState::Standby)
                .await
        }
        "-transitionToObserver" => {
            admin
                .transition(&parsed, cmd, HaServiceState::Observer)
                .await
        }
        "-failover" => admin.failover(&parsed).await,
        "-getServiceState" => admin.get_service_state(&parsed).await,
        "-getAllServiceState" => admin.get_all_service_state().await,
        "-checkHealth" => admin.check_health(&parsed).await,
        _ => unreachable!("commands were checked against COMMANDS"),
    };
    Ok(match result {
        Ok(code) => code,
        Err(Failed::IllegalArgument(msg)) => {
            eprintln!("Illegal argument: {msg}");
            -1
        }
        Err(Failed::Operation(msg)) => {
            eprintln!("Operation failed: {msg}");
            -1
        }
    })
}

fn help(words: &[String]) -> i32 {
    let Some(name) = words.first() else {
        print!("{}", full_usage());
        return 0;
    };
    if words.len() != 1 {
        eprintln!("{}", command_usage("-help"));
        return -1;
    }
    let cmd = if name.starts_with('-') {
        name.clone()
    } else {
        format!("-{name}")
    };
    match COMMANDS.iter().find(|(c, _, _)| *c == cmd) {
        Some((c, Some(a), h)) => println!("{c} [{a}]: {h}"),
        Some((c, None, h)) => println!("{c}: {h}"),
        None => {
            eprintln!("{cmd}: Unknown command");
            eprint!("{}", full_usage());
            return -1;
        }
    }
    0
}

/// Asks on stderr, reads the answer from stdin. No answer (end of input, as when run
/// non-interactively) is a refusal.
async fn confirm_force_manual() -> bool {
    tokio::task::spawn_blocking(|| {
        let stdin = std::io::stdin();
        // Bounded: each round consumes a line; end of input ends the loop.
        loop {
            eprint!("{FORCEMANUAL_PROMPT} (Y or N) ");
            let mut line = String::new();
            match stdin.read_line(&mut line) {
                Ok(0) | Err(_) => {
                    eprintln!();
                    return false;
                }
                Ok(_) => {}
            }
            let answer = line.trim();
            if answer.eq_ignore_ascii_case("y") || answer.eq_ignore_ascii_case("yes") {
                return true;
            }
            if answer.eq_ignore_ascii_case("n") || answer.eq_ignore_ascii_case("no") {
                return false;
            }
            eprintln!("Invalid input: {answer}");
        }
    })
    .await
    .unwrap_or(false)
}

enum Failed {
    /// Hadoop: IllegalArgumentException (an unknown id, no nameservice).
    IllegalArgument(String),
    /// Hadoop: IOException from the call.
    Operation(String),
}

/// The message Hadoop would print for a failed call: a remote exception's own message,
/// else the local error.
fn call_message(e: &IpcError) -> String {
    match e.remote() {
        Some(r) => r.message.clone(),
        None => e.to_string(),
    }
}

struct Admin<'a> {
    conf: &'a Configuration,
    ns: Option<String>,
    source: RequestSource,
    timeouts: FailoverTimeouts,
}

impl Admin<'_> {
    fn nameservice(&self) -> Result<String, Failed> {
        resolve_nameservice(self.conf, self.ns.as_deref())
            .map_err(|e| Failed::IllegalArgument(e.to_string()))
    }

    fn resolve(&self, id: &str) -> Result<HaTarget, Failed> {
        HaTarget::resolve(self.conf, &self.nameservice()?, id)
            .map_err(|e| Failed::IllegalArgument(e.to_string()))
    }

    fn all_targets(&self) -> Result<Vec<HaTarget>, Failed> {
        HaTarget::all(self.conf, &self.nameservice()?)
            .map_err(|e| Failed::IllegalArgument(e.to_string()))
    }

    fn controller(&self) -> Result<FailoverController, Failed> {
        let fencer =
            NodeFencer::from_conf(self.conf).map_err(|e| Failed::IllegalArgument(e.to_string()))?;
        Ok(FailoverController::new(
            fencer,
            self.timeouts,
            self.source,
            ClientConfig::new(hafs_client::identity::current_user()),
        ))
    }

    /// A client of `target` with `timeout` for connecting and for the call.
    fn client(&self, target: &HaTarget, timeout: Duration) -> hafs_ha::HaServiceClient {
        FailoverController::new(
            None,
            self.timeouts,
            self.source,
            ClientConfig::new(hafs_client::identity::current_user()),
        )
        .client(target, timeout)
    }

    /// Hadoop's checkManualStateManagementOK.
    fn manual_state_management_ok(&self, target: &HaTarget) -> bool {
        if !target.auto_failover_enabled {
            return true;
        }
        if self.source != RequestSource::UserForced {
            eprintln!(
                "Automatic failover is enabled for {target}\n\
                 Refusing to manually manage HA state, since it may cause\n\
                 a split-brain scenario or other incorrect state.\n\
                 If you are very sure you know what you are doing, please \n\
                 specify the --forcemanual flag."
            );
            return false;
        }
        tracing::warn!(
            "Proceeding with manual HA state management even though\n\
             automatic failover is enabled for {target}"
        );
        true
    }

    async fn transition_to_active(&self, parsed: &Parsed) -> Result<i32, Failed> {
        let cmd = "-transitionToActive";
        if parsed.args.len() != 1 {
            eprintln!("transitionToActive: incorrect number of arguments");
            eprintln!("{}", command_usage(cmd));
            return Ok(-1);
        }
        let id = &parsed.args[0];
        // Refuse while another NameNode is (or may be) Active, unless --forceactive.
        if !parsed.has("forceactive") {
            let target = self.resolve(id)?;
            for other in self.all_targets()? {
                if other.namenode_id == target.namenode_id {
                    continue;
                }
                if !self.manual_state_management_ok(&other) {
                    return Ok(-1);
                }
                let client = self.client(&other, Duration::from_secs(5));
                match client.get_service_status().await {
                    Ok(s) if s.state == HaServiceState::Active => {
                        eprintln!(
                            "transitionToActive: Node {} is already active",
                            other.namenode_id
                        );
                        eprintln!("{}", command_usage(cmd));
                        return Ok(-1);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        eprintln!("Unexpected error occurred  {}", call_message(&e));
                        eprintln!("{}", command_usage(cmd));
                        return Ok(-1);
                    }
                }
            }
        }
        let target = self.resolve(id)?;
        if !self.manual_state_management_ok(&target) {
            return Ok(-1);
        }
        let client = self.client(&target, Duration::ZERO);
        client
            .transition_to_active(self.source)
            .await
            .map_err(|e| Failed::Operation(call_message(&e)))?;
        Ok(0)
    }

    async fn transition(
        &self,
        parsed: &Parsed,
        cmd: &str,
        state: HaServiceState,
    ) -> Result<i32, Failed> {
        if parsed.args.len() != 1 {
            eprintln!("{}: incorrect number of arguments", &cmd[1..]);
            eprintln!("{}", command_usage(cmd));
            return Ok(-1);
        }
        let target = self.resolve(&parsed.args[0])?;
        if !self.manual_state_management_ok(&target) {
            return Ok(-1);
        }
        let client = self.client(&target, Duration::ZERO);
        let result = match state {
            HaServiceState::Observer => client.transition_to_observer(self.source).await,
            _ => client.transition_to_standby(self.source).await,
        };
        result.map_err(|e| Failed::Operation(call_message(&e)))?;
        Ok(0)
    }

    async fn failover(&self, parsed: &Parsed) -> Result<i32, Failed> {
        let force_fence = parsed.has("forcefence");
        let force_active = parsed.has("forceactive");
        if parsed.args.len() != 2 {
            eprintln!("failover: incorrect arguments");
            eprintln!("{}", command_usage("-failover"));
            return Ok(-1);
        }
        let from = self.resolve(&parsed.args[0])?;
        let to = self.resolve(&parsed.args[1])?;
        if from.auto_failover_enabled != to.auto_failover_enabled {
            return Err(Failed::IllegalArgument(format!(
                "Inconsistent auto-failover configs between {from} and {to}!"
            )));
        }
        if from.auto_failover_enabled {
            if force_fence || force_active {
                eprintln!(
                    "forcefence and forceactive flags not supported with auto-failover enabled."
                );
                return Ok(-1);
            }
            return self.graceful_failover_through_zkfcs(&to).await;
        }
        let controller = self.controller()?;
        if !controller.has_fencer() {
            return Err(Failed::IllegalArgument(
                "failover requires a fencer".to_string(),
            ));
        }
        match controller
            .failover(&from, &to, force_fence, force_active)
            .await
        {
            Ok(()) => {
                println!(
                    "Failover from {} to {} successful",
                    parsed.args[0], parsed.args[1]
                );
                Ok(0)
            }
            Err(e) => {
                eprintln!("Failover failed: {e}");
                Ok(-1)
            }
        }
    }

    /// With automatic failover, Hadoop asks the target's failover controller to take
    /// over (ZKFCProtocol.gracefulFailover on `dfs.ha.zkfc.port` of its host).
    async fn graceful_failover_through_zkfcs(&self, to: &HaTarget) -> Result<i32, Failed> {
        let port =
            hafs_ha::zkfc::protocol::zkfc_port(self.conf, &to.nameservice_id, &to.namenode_id)
                .map_err(|e| Failed::IllegalArgument(e.to_string()))?;
        let mut cfg = ClientConfig::new(hafs_client::identity::current_user());
        cfg.call_timeout = self.timeouts.new_active;
        cfg.connect_timeout = self.timeouts.new_active;
        let zkfc = hafs_ha::zkfc::protocol::ZkfcClient::new(format!("{}:{port}", to.host), cfg);
        match zkfc.graceful_failover().await {
            Ok(()) => {
                println!("Failover to {to} successful");
                Ok(0)
            }
            Err(e) if e.remote().is_some() => {
                eprintln!("Failover failed: {}", call_message(&e));
                Ok(-1)
            }
            Err(e) => Err(Failed::Operation(e.to_string())),
        }
    }

    async fn get_service_state(&self, parsed: &Parsed) -> Result<i32, Failed> {
        if parsed.args.len() != 1 {
            eprintln!("getServiceState: incorrect number of arguments");
            eprintln!("{}", command_usage("-getServiceState"));
            return Ok(-1);
        }
        let target = self.resolve(&parsed.args[0])?;
        let client = self.client(&target, self.timeouts.cli_check);
        let status = client
            .get_service_status()
            .await
            .map_err(|e| Failed::Operation(call_message(&e)))?;
        println!("{}", status.state);
        Ok(0)
    }

    async fn get_all_service_state(&self) -> Result<i32, Failed> {
        let targets = match self.all_targets() {
            Ok(t) if !t.is_empty() => t,
            _ => {
                eprintln!("Failed to get service IDs");
                return Ok(-1);
            }
        };
        for target in targets {
            let client = self.client(&target, self.timeouts.cli_check);
            let state = match client.get_service_status().await {
                Ok(s) => s.state.to_string(),
                Err(e) => format!("Failed to connect: {}", call_message(&e)),
            };
            println!("{:<50} {:<10}", target.address, state);
        }
        Ok(0)
    }

    async fn check_health(&self, parsed: &Parsed) -> Result<i32, Failed> {
        if parsed.args.len() != 1 {
            eprintln!("checkHealth: incorrect number of arguments");
            eprintln!("{}", command_usage("-checkHealth"));
            return Ok(-1);
        }
        let target = self.resolve(&parsed.args[0])?;
        let client = self.client(&target, self.timeouts.cli_check);
        match client.monitor_health().await {
            Ok(()) => Ok(0),
            Err(e)
                if e.remote()
                    .is_some_and(|r| r.class_name == HEALTH_CHECK_FAILED_EXCEPTION) =>
            {
                eprintln!("Health check failed: {}", call_message(&e));
                Ok(-1)
            }
            Err(e) => Err(Failed::Operation(call_message(&e))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn options_are_gnu_style_and_per_command() {
        let p = parse_opts("-failover", &words("--forcefence -forceactive nn1 nn2")).unwrap();
        assert!(p.has("forcefence") && p.has("forceactive") && !p.has("forcemanual"));
        assert_eq!(p.args, words("nn1 nn2"));
        assert!(parse_opts("-transitionToStandby", &words("--forceactive nn1")).is_none());
        assert!(parse_opts("-getServiceState", &words("--forcemanual nn1")).is_none());
        let p = parse_opts("-transitionToActive", &words("--forcemanual nn1")).unwrap();
        assert!(p.has("forcemanual"));
    }

    #[test]
    fn usage_lists_every_command() {
        let u = full_usage();
        assert!(u.starts_with("Usage: haadmin [-ns <nameserviceId>]\n"));
        assert!(u.contains("    [-getAllServiceState]\n"));
        assert!(
            u.contains("    [-failover [--forcefence] [--forceactive] <serviceId> <serviceId>]")
        );
        assert_eq!(
            command_usage("-checkHealth"),
            "Usage: haadmin [-ns <nameserviceId>] [-checkHealth <serviceId>]"
        );
    }
}
