//! `hafs balancer` options (Hadoop's BalancerParameters and Balancer.Cli).

use std::collections::HashSet;

pub const USAGE: &str = "Usage: hafs balancer
\t[-policy <policy>]\tthe balancing policy: datanode or blockpool
\t[-threshold <threshold>]\tPercentage of disk capacity
\t[-exclude [-f <hosts-file> | <comma-separated list of hosts>]]\tExcludes the specified datanodes.
\t[-include [-f <hosts-file> | <comma-separated list of hosts>]]\tIncludes only the specified datanodes.
\t[-source [-f <hosts-file> | <comma-separated list of hosts>]]\tPick only the specified datanodes as source nodes.
\t[-idleiterations <idleiterations>]\tNumber of consecutive idle iterations (-1 for Infinite) before exit.";

/// Hadoop's balancing policies: per DataNode, or per block pool (the same with one
/// nameservice, which is what hafs serves).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    DataNode,
    BlockPool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Parameters {
    pub policy: Policy,
    /// Percentage points around the average (1..=100, default 10).
    pub threshold: f64,
    pub include: HashSet<String>,
    pub exclude: HashSet<String>,
    pub source: HashSet<String>,
    /// Iterations without a moved byte before giving up (-1: never).
    pub max_idle_iterations: i64,
}

impl Default for Parameters {
    fn default() -> Self {
        Parameters {
            policy: Policy::DataNode,
            threshold: 10.0,
            include: HashSet::new(),
            exclude: HashSet::new(),
            source: HashSet::new(),
            max_idle_iterations: 5,
        }
    }
}

impl Parameters {
    /// Whether a DataNode (known by these names: host name, IP, `ip:port`) takes
    /// part: not excluded, and included when an include list is given.
    pub fn takes_part(&self, names: &[&str]) -> bool {
        let hit = |set: &HashSet<String>| names.iter().any(|n| set.contains(*n));
        !hit(&self.exclude) && (self.include.is_empty() || hit(&self.include))
    }

    /// Whether a DataNode may give blocks (`-source`; everyone without it).
    pub fn may_be_source(&self, names: &[&str]) -> bool {
        self.source.is_empty() || names.iter().any(|n| self.source.contains(*n))
    }
}

fn host_list(
    opt: &str,
    args: &[String],
    i: &mut usize,
    read_file: &dyn Fn(&str) -> Result<String, String>,
) -> Result<HashSet<String>, String> {
    let value = args
        .get(*i)
        .ok_or_else(|| format!("List of nodes to {opt} | -f <filename> is missing"))?;
    *i += 1;
    let text = if value == "-f" {
        let file = args
            .get(*i)
            .ok_or_else(|| format!("File containing nodes to {opt} is not specified"))?;
        *i += 1;
        read_file(file)?
    } else {
        value.clone()
    };
    Ok(text
        .split(|c: char| c == ',' || c.is_whitespace())
        .map(str::trim)
        .filter(|s| !s.is_empty() && !s.starts_with('#'))
        .map(str::to_string)
        .collect())
}

/// Parses the options; the error is the message to print before the usage.
pub fn parse(
    args: &[String],
    read_file: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Parameters, String> {
    let mut p = Parameters::default();
    let mut i = 0;
    while i < args.len() {
        let opt = args[i].as_str();
        i += 1;
        match opt.to_ascii_lowercase().as_str() {
            "-threshold" => {
                let v = args.get(i).ok_or("Threshold value is missing")?;
                i += 1;
                let t: f64 = v
                    .parse()
                    .map_err(|_| format!("Expecting a number in the range of [1.0, 100.0]: {v}"))?;
                if !(1.0..=100.0).contains(&t) {
                    return Err(format!(
                        "Number out of range: threshold = {t}; expecting [1.0, 100.0]"
                    ));
                }
                p.threshold = t;
            }
            "-policy" => {
                let v = args.get(i).ok_or("Policy value is missing")?;
                i += 1;
                p.policy = match v.to_ascii_lowercase().as_str() {
                    "datanode" => Policy::DataNode,
                    "blockpool" => Policy::BlockPool,
                    _ => return Err(format!("Illegal policy name: {v}")),
                };
            }
            "-exclude" => p.exclude = host_list("exclude", args, &mut i, read_file)?,
            "-include" => p.include = host_list("include", args, &mut i, read_file)?,
            "-source" => p.source = host_list("source", args, &mut i, read_file)?,
            "-idleiterations" => {
                let v = args.get(i).ok_or("idleiterations value is missing")?;
                i += 1;
                p.max_idle_iterations = v
                    .parse()
                    .map_err(|_| format!("idleiterations must be an integer: {v}"))?;
            }
            _ => return Err(format!("args = {args:?}: unknown option {opt}")),
        }
    }
    if !p.include.is_empty() && !p.exclude.is_empty() {
        return Err("-exclude and -include options cannot be specified together.".into());
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    fn no_file(_: &str) -> Result<String, String> {
        Err("no files here".into())
    }

    #[test]
    fn parses_hadoops_options() {
        let p = parse(
            &s(&[
                "-threshold",
                "5",
                "-policy",
                "blockpool",
                "-exclude",
                "a,b",
                "-idleiterations",
                "3",
            ]),
            &no_file,
        )
        .unwrap();
        assert_eq!(p.threshold, 5.0);
        assert_eq!(p.policy, Policy::BlockPool);
        assert!(p.exclude.contains("a") && p.exclude.contains("b"));
        assert_eq!(p.max_idle_iterations, 3);
        assert!(!p.takes_part(&["a"]));
        assert!(p.takes_part(&["c"]));
    }

    #[test]
    fn host_files_are_read() {
        let file = |name: &str| {
            assert_eq!(name, "/hosts");
            Ok("h1\nh2\n".to_string())
        };
        let p = parse(&s(&["-include", "-f", "/hosts"]), &file).unwrap();
        assert!(p.takes_part(&["h1"]) && p.takes_part(&["h2"]));
        assert!(!p.takes_part(&["h3"]));
    }

    #[test]
    fn bad_options_are_refused() {
        assert!(parse(&s(&["-threshold", "0"]), &no_file)
            .unwrap_err()
            .contains("Number out of range"));
        assert!(parse(&s(&["-threshold"]), &no_file).is_err());
        assert!(parse(&s(&["-policy", "rack"]), &no_file)
            .unwrap_err()
            .contains("Illegal policy name"));
        assert!(parse(&s(&["-include", "a", "-exclude", "b"]), &no_file).is_err());
        assert!(parse(&s(&["-bogus"]), &no_file).is_err());
    }
}
