//! `hafs fetchdt`: Hadoop's `hdfs fetchdt` (DelegationTokenFetcher). Fetches a
//! delegation token from the NameNode of `fs.defaultFS` into a token storage file (the
//! file `HADOOP_TOKEN_FILE_LOCATION` names for a job), or prints, renews or cancels the
//! tokens of such a file.
//!
//! As Hadoop's 3.x tool: the file is written in the Writable format (readable by every
//! Hadoop version), renew and cancel print nothing, `--print` prints each token as
//! `Token (HDFS_DELEGATION_TOKEN token <n> for <user> with renewer <renewer>) for
//! <service>`. `--webservice` (the HTTP servlets Hadoop removed) is not supported.

use std::path::PathBuf;

use anyhow::Context;
use hafs_client::DfsClient;
use hafs_conf::Configuration;
use hafs_security::token::{storage, Token, HDFS_DELEGATION_KIND};

const USAGE: &str = "fetchdt retrieves delegation tokens from the NameNode

fetchdt <opts> <token file>
Options:
  --renewer <name>    Name of the delegation token renewer
  --cancel            Cancel the delegation token
  --renew             Renew the delegation token.  Delegation token must have been fetched using the --renewer <name> option.
  --print             Print the delegation token";

#[derive(Debug, PartialEq, Eq)]
enum Action {
    Fetch { renewer: String },
    Print,
    Renew,
    Cancel,
}

/// The action and the token file, or the message of a usage error.
fn parse(args: &[String]) -> Result<(Action, PathBuf), String> {
    let (mut renewer, mut print, mut renew, mut cancel) = (String::new(), false, false, false);
    let mut files = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.trim_start_matches('-') {
            _ if !a.starts_with('-') => files.push(a.clone()),
            "renewer" => {
                renewer = it
                    .next()
                    .ok_or("ERROR: --renewer needs a user name")?
                    .clone()
            }
            "print" => print = true,
            "renew" => renew = true,
            "cancel" => cancel = true,
            "webservice" => return Err("ERROR: --webservice is not supported by hafs".into()),
            _ => return Err(format!("ERROR: unknown option {a}")),
        }
    }
    if [print, renew, cancel].iter().filter(|b| **b).count() > 1 {
        return Err("ERROR: Only specify cancel, renew or print.".into());
    }
    let [file] = files.as_slice() else {
        return Err("ERROR: Must specify exactly one token file".into());
    };
    let action = if print {
        Action::Print
    } else if renew {
        Action::Renew
    } else if cancel {
        Action::Cancel
    } else {
        Action::Fetch { renewer }
    };
    Ok((action, PathBuf::from(file)))
}

pub async fn run(conf: &Configuration, args: &[String]) -> anyhow::Result<i32> {
    let (action, file) = match parse(args) {
        Ok(p) => p,
        Err(msg) => {
            eprintln!("{msg}\n{USAGE}");
            return Ok(1);
        }
    };
    if action == Action::Print {
        for t in read_tokens(&file)? {
            println!("Token ({}) for {}", describe(&t), t.service);
        }
        return Ok(0);
    }
    let client = DfsClient::new(conf, None)?;
    match action {
        Action::Fetch { renewer } => {
            let service = crate::security::token_service(conf).with_context(|| {
                format!(
                    "{} is not an hdfs:// file system",
                    hafs_conf::keys::FS_DEFAULT_FS
                )
            })?;
            let Some(proto) = client.get_delegation_token(&renewer).await? else {
                eprintln!("ERROR: Failed to fetch token from {}", client.fs_uri());
                return Ok(1);
            };
            let mut token = Token::from_proto(&proto).context("the NameNode's token")?;
            token.service = service;
            let mut creds = storage::Credentials::default();
            creds.add_token(token);
            std::fs::write(&file, creds.write_storage_file(storage::Format::Writable))
                .with_context(|| format!("cannot write {}", file.display()))?;
        }
        // Only the NameNode's own tokens; others in the file are someone else's.
        Action::Renew => {
            for t in read_tokens(&file)?
                .iter()
                .filter(|t| t.kind == HDFS_DELEGATION_KIND)
            {
                let until = client.renew_delegation_token(&t.to_proto()).await?;
                tracing::debug!(service = %t.service, until, "renewed token");
            }
        }
        Action::Cancel => {
            for t in read_tokens(&file)?
                .iter()
                .filter(|t| t.kind == HDFS_DELEGATION_KIND)
            {
                client.cancel_delegation_token(&t.to_proto()).await?;
                tracing::debug!(service = %t.service, "cancelled token");
            }
        }
        Action::Print => unreachable!("printed above"),
    }
    Ok(0)
}

fn read_tokens(file: &std::path::Path) -> anyhow::Result<Vec<Token>> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let creds = storage::Credentials::read_storage_file(&bytes)
        .with_context(|| format!("{} is not a token storage file", file.display()))?;
    Ok(creds.tokens.into_iter().map(|(_, t)| t).collect())
}

/// Hadoop's DelegationTokenIdentifier.toStringStable, for HDFS tokens: the owner's
/// short name is the principal's first component (the DEFAULT auth_to_local rule).
fn describe(t: &Token) -> String {
    match t.delegation_identifier() {
        Ok(id) => {
            let short = id.owner.split(['/', '@']).next().unwrap_or(&id.owner);
            format!(
                "{} token {} for {short} with renewer {}",
                t.kind, id.sequence_number, id.renewer
            )
        }
        Err(_) => format!("{} token", t.kind),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_follow_hadoops_fetchdt() {
        assert_eq!(
            parse(&args(&["--renewer", "yarn", "t.dt"])).unwrap(),
            (
                Action::Fetch {
                    renewer: "yarn".into()
                },
                PathBuf::from("t.dt")
            )
        );
        assert_eq!(parse(&args(&["--print", "t.dt"])).unwrap().0, Action::Print);
        assert_eq!(parse(&args(&["-renew", "t.dt"])).unwrap().0, Action::Renew);
        assert_eq!(
            parse(&args(&["--renew", "--cancel", "t"])).unwrap_err(),
            "ERROR: Only specify cancel, renew or print."
        );
        assert!(parse(&args(&["--print"]))
            .unwrap_err()
            .contains("exactly one token file"));
        assert!(parse(&args(&["a", "b"]))
            .unwrap_err()
            .contains("exactly one token file"));
        assert!(parse(&args(&["--renewer"])).is_err());
    }
}
