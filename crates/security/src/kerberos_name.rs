//! Kerberos principal names as Hadoop reads them (`hadoop-auth`'s `KerberosName`):
//! `primary[/instance][@REALM]`, the `_HOST` placeholder in configured server principals,
//! and `hadoop.security.auth_to_local`, the rules that turn an authenticated principal
//! into the short user name HDFS permissions use.
//!
//! Rules, in order, first match wins:
//! - `DEFAULT`: `primary[/instance]@DEFAULT_REALM` → `primary`.
//! - `RULE:[n:fmt](regex)s/from/to/g` with an optional `/L`: applies to principals of `n`
//!   components; `fmt` builds a string from `$0` (realm) and `$1`..`$n` (components); the
//!   string must match `regex` in full; then `s/from/to/` replaces the first (or with `g`
//!   every) match of `from` (`$1` in `to` names a group); `/L` lower-cases the result.
//!
//! A principal no rule maps is refused ("No rules applied to …"), as is a rule result that
//! still holds `/` or `@` (Hadoop's default `hadoop` mapping mechanism): a user name must be
//! simple.

use std::fmt;

use regex_lite::Regex;

use crate::sasl::SaslError;

/// The longest principal accepted: principals arrive from peers (through tickets and
/// tokens), so their length is bounded before any rule runs. Kerberos itself has no
/// practical limit; real principals are far shorter.
pub const MAX_PRINCIPAL_LEN: usize = 1024;

/// The placeholder in server principals (`nn/_HOST@REALM`) that a server replaces with its
/// own host name.
pub const HOST_PLACEHOLDER: &str = "_HOST";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KerberosNameError {
    /// Not `primary[/instance][@REALM]`.
    #[error("Malformed Kerberos name: {0}")]
    Malformed(String),
    /// An auth_to_local rule does not parse; names the offending rule text.
    #[error("Invalid rule: {rule}: {why}")]
    InvalidRule { rule: String, why: String },
    /// No rule maps this principal (Hadoop's `NoMatchingRule`).
    #[error("No rules applied to {0}")]
    NoMatchingRule(String),
    /// A rule's result still names a principal, not a user.
    #[error("Non-simple name {name} after auth_to_local rule {rule}")]
    NonSimpleName { name: String, rule: String },
}

impl From<KerberosNameError> for SaslError {
    fn from(e: KerberosNameError) -> SaslError {
        match e {
            KerberosNameError::InvalidRule { .. } => SaslError::Config(e.to_string()),
            _ => SaslError::Authentication(e.to_string()),
        }
    }
}

/// A parsed principal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KerberosName {
    service: String,
    host: Option<String>,
    realm: Option<String>,
}

impl KerberosName {
    /// Parses `primary[/instance][@REALM]`; each part non-empty and free of `/` and `@`.
    pub fn parse(name: &str) -> Result<KerberosName, KerberosNameError> {
        let bad = || KerberosNameError::Malformed(name.chars().take(MAX_PRINCIPAL_LEN).collect());
        if name.len() > MAX_PRINCIPAL_LEN {
            return Err(bad());
        }
        let (user, realm) = match name.split_once('@') {
            Some((u, r)) => (u, Some(r)),
            None => (name, None),
        };
        let (service, host) = match user.split_once('/') {
            Some((s, h)) => (s, Some(h)),
            None => (user, None),
        };
        let part_ok = |p: &str| !p.is_empty() && !p.contains(['/', '@']);
        if !part_ok(service) || !host.is_none_or(part_ok) || !realm.is_none_or(part_ok) {
            return Err(bad());
        }
        Ok(KerberosName {
            service: service.to_string(),
            host: host.map(str::to_string),
            realm: realm.map(str::to_string),
        })
    }

    /// The first component (`nn` of `nn/host@REALM`, `alice` of `alice@REALM`).
    pub fn service_name(&self) -> &str {
        &self.service
    }

    /// The second component, if any.
    pub fn host_name(&self) -> Option<&str> {
        self.host.as_deref()
    }

    pub fn realm(&self) -> Option<&str> {
        self.realm.as_deref()
    }
}

impl fmt::Display for KerberosName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.service)?;
        if let Some(h) = &self.host {
            write!(f, "/{h}")?;
        }
        if let Some(r) = &self.realm {
            write!(f, "@{r}")?;
        }
        Ok(())
    }
}

/// Replaces `_HOST` in a configured server principal of three components
/// (`nn/_HOST@REALM`) with `host` in lower case, as Hadoop's
/// `SecurityUtil.getServerPrincipal` does with a server's bind host. Any other principal
/// comes back unchanged.
pub fn substitute_host(principal: &str, host: &str) -> String {
    let Some((user, realm)) = principal.split_once('@') else {
        return principal.to_string();
    };
    match user.split_once('/') {
        Some((service, HOST_PLACEHOLDER)) if !realm.contains(['/', '@']) => {
            format!("{service}/{}@{realm}", host.to_lowercase())
        }
        _ => principal.to_string(),
    }
}

/// One compiled `hadoop.security.auth_to_local` rule.
#[derive(Debug, Clone)]
struct Rule {
    /// The rule as written, for messages.
    text: String,
    kind: RuleKind,
    lower_case: bool,
}

#[derive(Debug, Clone)]
enum RuleKind {
    Default,
    Rule {
        components: usize,
        format: Vec<FormatPart>,
        /// Anchored: the formatted string must match in full (Java's `matches()`).
        matcher: Option<Regex>,
        substitution: Option<Substitution>,
    },
}

#[derive(Debug, Clone)]
enum FormatPart {
    Literal(String),
    /// `$0` is the realm, `$1`.. the components.
    Param(usize),
}

#[derive(Debug, Clone)]
struct Substitution {
    from: Regex,
    /// In regex-lite's replacement syntax.
    to: String,
    global: bool,
}

/// The compiled `hadoop.security.auth_to_local` rules with the default realm that
/// `DEFAULT` refers to.
#[derive(Debug, Clone)]
pub struct AuthToLocal {
    rules: Vec<Rule>,
    default_realm: String,
}

impl AuthToLocal {
    /// Compiles a rules value (whitespace or newlines between rules, as in core-site.xml).
    /// Hadoop uses `DEFAULT` when the key is unset; so should the caller.
    pub fn parse(rules: &str, default_realm: &str) -> Result<AuthToLocal, KerberosNameError> {
        let mut out = Vec::new();
        let mut rest = rules.trim_start();
        while !rest.is_empty() {
            let (rule, after) = parse_rule(rest)?;
            out.push(rule);
            rest = after.trim_start();
        }
        Ok(AuthToLocal {
            rules: out,
            default_realm: default_realm.to_string(),
        })
    }

    /// The short user name of a principal: the first rule that applies, else refused.
    /// A principal with neither instance nor realm is already a short name.
    pub fn short_name(&self, name: &KerberosName) -> Result<String, KerberosNameError> {
        if name.host.is_none() && name.realm.is_none() {
            return Ok(name.service.clone());
        }
        let mut params: Vec<&str> = vec![name.realm.as_deref().unwrap_or(""), &name.service];
        if let Some(h) = &name.host {
            params.push(h);
        }
        for rule in &self.rules {
            if let Some(short) = self.apply(rule, &params)? {
                return Ok(short);
            }
        }
        Err(KerberosNameError::NoMatchingRule(name.to_string()))
    }

    /// Parses then maps a principal string.
    pub fn short_name_of(&self, principal: &str) -> Result<String, KerberosNameError> {
        self.short_name(&KerberosName::parse(principal)?)
    }

    fn apply(&self, rule: &Rule, params: &[&str]) -> Result<Option<String>, KerberosNameError> {
        let result = match &rule.kind {
            RuleKind::Default => (params[0] == self.default_realm).then(|| params[1].to_string()),
            RuleKind::Rule {
                components,
                format,
                matcher,
                substitution,
            } => {
                if *components != params.len() - 1 {
                    return Ok(None);
                }
                let mut base = String::new();
                for part in format {
                    match part {
                        FormatPart::Literal(s) => base.push_str(s),
                        // Checked against `components` when the rule was parsed.
                        FormatPart::Param(i) => base.push_str(params[*i]),
                    }
                }
                if matcher.as_ref().is_some_and(|m| !m.is_match(&base)) {
                    return Ok(None);
                }
                Some(match substitution {
                    None => base,
                    Some(s) if s.global => s.from.replace_all(&base, s.to.as_str()).into_owned(),
                    Some(s) => s.from.replace(&base, s.to.as_str()).into_owned(),
                })
            }
        };
        let Some(mut result) = result else {
            return Ok(None);
        };
        if rule.lower_case {
            result = result.to_lowercase();
        }
        if result.contains(['/', '@']) {
            return Err(KerberosNameError::NonSimpleName {
                name: result,
                rule: rule.text.clone(),
            });
        }
        Ok(Some(result))
    }
}

/// Parses one rule at the start of `s`; returns it and the text after it.
fn parse_rule(s: &str) -> Result<(Rule, &str), KerberosNameError> {
    // The rule's own text, up to the next whitespace, names it in errors.
    let head = s.split_whitespace().next().unwrap_or(s);
    let invalid = |why: &str| KerberosNameError::InvalidRule {
        rule: head.to_string(),
        why: why.to_string(),
    };
    let (kind, mut rest) = if let Some(rest) = s.strip_prefix("DEFAULT") {
        (RuleKind::Default, rest)
    } else if let Some(rest) = s.strip_prefix("RULE:[") {
        let (spec, rest) = rest
            .split_once(']')
            .ok_or_else(|| invalid("no ']' after RULE:["))?;
        let (n, fmt) = spec
            .split_once(':')
            .ok_or_else(|| invalid("expected [n:format]"))?;
        let components: usize = n
            .parse()
            .ok()
            .filter(|&c| (1..=2).contains(&c))
            .ok_or_else(|| invalid("the component count must be 1 or 2"))?;
        let format = parse_format(fmt, components).map_err(|why| invalid(&why))?;
        let (matcher, rest) = match rest.strip_prefix('(') {
            Some(r) => {
                let (re, after) = r
                    .split_once(')')
                    .ok_or_else(|| invalid("no ')' after the match pattern"))?;
                let re = Regex::new(&format!("^(?:{re})$"))
                    .map_err(|e| invalid(&format!("bad match pattern: {e}")))?;
                (Some(re), after)
            }
            None => (None, rest),
        };
        let (substitution, rest) = match rest.strip_prefix("s/") {
            Some(r) => {
                let (from, r) = r
                    .split_once('/')
                    .ok_or_else(|| invalid("expected s/from/to/"))?;
                let (to, r) = r
                    .split_once('/')
                    .ok_or_else(|| invalid("expected s/from/to/"))?;
                let (global, r) = match r.strip_prefix('g') {
                    Some(r) => (true, r),
                    None => (false, r),
                };
                let from = Regex::new(from)
                    .map_err(|e| invalid(&format!("bad substitution pattern: {e}")))?;
                let sub = Substitution {
                    from,
                    to: java_replacement(to),
                    global,
                };
                (Some(sub), r)
            }
            None => (None, rest),
        };
        (
            RuleKind::Rule {
                components,
                format,
                matcher,
                substitution,
            },
            rest,
        )
    } else {
        return Err(invalid("expected DEFAULT or RULE:[n:format]"));
    };
    rest = rest.strip_prefix('/').unwrap_or(rest);
    let lower_case = match rest.strip_prefix('L') {
        Some(r) => {
            rest = r;
            true
        }
        None => false,
    };
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return Err(invalid("unexpected text after the rule"));
    }
    let text = s[..s.len() - rest.len()].to_string();
    Ok((
        Rule {
            text,
            kind,
            lower_case,
        },
        rest,
    ))
}

/// `$0`..`$n` and literal text; any other `$` is an error.
fn parse_format(fmt: &str, components: usize) -> Result<Vec<FormatPart>, String> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            literal.push(c);
            continue;
        }
        let mut digits = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            digits.push(*d);
            chars.next();
        }
        let index: usize = digits
            .parse()
            .map_err(|_| format!("'$' without a parameter number in format '{fmt}'"))?;
        if index > components {
            return Err(format!(
                "index {index} from {fmt} is outside of the valid range 0 to {components}"
            ));
        }
        if !literal.is_empty() {
            parts.push(FormatPart::Literal(std::mem::take(&mut literal)));
        }
        parts.push(FormatPart::Param(index));
    }
    if !literal.is_empty() {
        parts.push(FormatPart::Literal(literal));
    }
    Ok(parts)
}

/// Java's `Matcher.replaceAll` replacement syntax (`$1` a group, `\x` a literal x) in
/// regex-lite's (`${1}` a group, `$$` a literal `$`).
fn java_replacement(to: &str) -> String {
    let mut out = String::new();
    let mut chars = to.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(x) => out.push(x),
                None => {}
            },
            '$' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                if digits.is_empty() {
                    out.push_str("$$");
                } else {
                    out.push_str(&format!("${{{digits}}}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rules the secure test cluster uses. The format must keep the instance
    /// (`$1/$2@$0`, as in SecureMode.md) for a pattern like `nn/.*@HAFS.TEST` to see it.
    const HAFS_RULES: &str = "RULE:[2:$1/$2@$0](nn/.*@HAFS.TEST)s/.*/hdfs/
        RULE:[2:$1/$2@$0](dn/.*@HAFS.TEST)s/.*/hdfs/
        RULE:[2:$1@$0](jn@HAFS.TEST)s/.*/hdfs/
        DEFAULT";

    #[test]
    fn principals_parse_and_print() {
        let n = KerberosName::parse("nn/localhost@HAFS.TEST").unwrap();
        assert_eq!(n.service_name(), "nn");
        assert_eq!(n.host_name(), Some("localhost"));
        assert_eq!(n.realm(), Some("HAFS.TEST"));
        assert_eq!(n.to_string(), "nn/localhost@HAFS.TEST");
        let n = KerberosName::parse("alice@HAFS.TEST").unwrap();
        assert_eq!((n.host_name(), n.realm()), (None, Some("HAFS.TEST")));
        let n = KerberosName::parse("alice").unwrap();
        assert_eq!(n.to_string(), "alice");
        for bad in ["", "@R", "a@", "a/@R", "/b@R", "a/b/c@R", "a@b@c", "a@R/x"] {
            assert!(
                matches!(
                    KerberosName::parse(bad),
                    Err(KerberosNameError::Malformed(_))
                ),
                "{bad}"
            );
        }
        assert!(KerberosName::parse(&"a".repeat(MAX_PRINCIPAL_LEN + 1)).is_err());
    }

    #[test]
    fn host_placeholder_is_replaced_in_lower_case() {
        assert_eq!(
            substitute_host("nn/_HOST@HAFS.TEST", "LocalHost"),
            "nn/localhost@HAFS.TEST"
        );
        assert_eq!(
            substitute_host("nn/other@HAFS.TEST", "localhost"),
            "nn/other@HAFS.TEST"
        );
        assert_eq!(substitute_host("nn/_HOST", "localhost"), "nn/_HOST");
        assert_eq!(substitute_host("_HOST@R", "localhost"), "_HOST@R");
    }

    #[test]
    fn hafs_test_rules_map_daemons_to_hdfs_and_users_by_default() {
        let a = AuthToLocal::parse(HAFS_RULES, "HAFS.TEST").unwrap();
        for p in [
            "nn/localhost@HAFS.TEST",
            "dn/localhost@HAFS.TEST",
            "jn/host2@HAFS.TEST",
        ] {
            assert_eq!(a.short_name_of(p).unwrap(), "hdfs", "{p}");
        }
        assert_eq!(a.short_name_of("alice@HAFS.TEST").unwrap(), "alice");
        assert_eq!(a.short_name_of("HTTP/localhost@HAFS.TEST").unwrap(), "HTTP");
        assert_eq!(a.short_name_of("bob").unwrap(), "bob");
        let err = a.short_name_of("alice@OTHER.REALM").unwrap_err();
        assert_eq!(err.to_string(), "No rules applied to alice@OTHER.REALM");
        let err = a.short_name_of("nn/localhost@OTHER.REALM").unwrap_err();
        assert_eq!(
            err.to_string(),
            "No rules applied to nn/localhost@OTHER.REALM"
        );
    }

    /// `$1@$0` drops the instance, so `nn/.*@HAFS.TEST` never matches the formatted
    /// `nn@HAFS.TEST`: the principal falls through to DEFAULT, exactly as in Hadoop.
    #[test]
    fn a_format_without_the_instance_cannot_match_it() {
        let a = AuthToLocal::parse(
            "RULE:[2:$1@$0](nn/.*@HAFS.TEST)s/.*/hdfs/ DEFAULT",
            "HAFS.TEST",
        )
        .unwrap();
        assert_eq!(a.short_name_of("nn/localhost@HAFS.TEST").unwrap(), "nn");
        let a = AuthToLocal::parse(
            "RULE:[2:$1@$0](nn@HAFS.TEST)s/.*/hdfs/ DEFAULT",
            "HAFS.TEST",
        )
        .unwrap();
        assert_eq!(a.short_name_of("nn/localhost@HAFS.TEST").unwrap(), "hdfs");
    }

    /// SecureMode.md's example set.
    #[test]
    fn secure_mode_md_example() {
        let rules = "RULE:[2:$1/$2@$0]([ndj]n/.*@REALM\\.TLD)s/.*/hdfs/
            RULE:[2:$1/$2@$0]([rn]m/.*@REALM\\.TLD)s/.*/yarn/
            RULE:[2:$1/$2@$0](jhs/.*@REALM\\.TLD)s/.*/mapred/
            DEFAULT";
        let a = AuthToLocal::parse(rules, "REALM.TLD").unwrap();
        assert_eq!(
            a.short_name_of("dn/h1.realm.tld@REALM.TLD").unwrap(),
            "hdfs"
        );
        assert_eq!(a.short_name_of("rm/h1@REALM.TLD").unwrap(), "yarn");
        assert_eq!(a.short_name_of("jhs/h1@REALM.TLD").unwrap(), "mapred");
        assert_eq!(a.short_name_of("alice@REALM.TLD").unwrap(), "alice");
        assert!(a.short_name_of("dn/h1@REALMXTLD").is_err());
    }

    /// Hadoop's TestKerberosName / SecureMode.md examples.
    #[test]
    fn hadoop_documented_examples() {
        let rules = "RULE:[1:$1@$0](.*@YAHOO\\.COM)s/@.*//
            RULE:[2:$1](johndoe)s/^.*$/guest/
            RULE:[2:$1;$2](^.*;admin$)s/;admin$///L
            RULE:[2:$2;$1](^.*;admin$)s/;admin$//
            RULE:[1:$1@$0](.*@OTHER)s/@.*//
            RULE:[2:$1@$0](.*@OTHER2)s/(.*)@.*/$1x/g
            DEFAULT";
        let a = AuthToLocal::parse(rules, "APACHE.ORG").unwrap();
        let check = |from: &str, to: &str| {
            assert_eq!(a.short_name_of(from).unwrap(), to, "{from}");
        };
        check("omalley@APACHE.ORG", "omalley");
        check("omalley/admin@APACHE.ORG", "omalley");
        check("hdfs/10.0.0.1@APACHE.ORG", "hdfs");
        check("hdfs@YAHOO.COM", "hdfs");
        check("johndoe/zoo@FOO.COM", "guest");
        check("joe/admin@FOO.COM", "joe");
        check("JOE/admin@FOO.COM", "joe");
        // The fourth rule swaps the components: "JOE;admin" loses its suffix.
        check("admin/JOE@FOO.COM", "JOE");
        check("carol@OTHER", "carol");
        check("dave/h@OTHER2", "davex");
        for bad in [
            "hdfs@ATHENA.MIT.EDU",
            "bob@FOO.COM",
            "bob/x@FOO.COM",
            // The YAHOO rule takes one component only, and DEFAULT only APACHE.ORG.
            "hdfs/10.0.0.1@YAHOO.COM",
        ] {
            assert!(
                matches!(
                    a.short_name_of(bad),
                    Err(KerberosNameError::NoMatchingRule(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn lower_case_flag_and_global_substitution() {
        let a = AuthToLocal::parse("RULE:[1:$1]/L", "R").unwrap();
        assert_eq!(a.short_name_of("AlIcE@ANY").unwrap(), "alice");
        let a = AuthToLocal::parse("RULE:[1:$1](.*)s/a/b/g", "R").unwrap();
        assert_eq!(a.short_name_of("banana@ANY").unwrap(), "bbnbnb");
        let a = AuthToLocal::parse("RULE:[1:$1](.*)s/a/b/", "R").unwrap();
        assert_eq!(a.short_name_of("banana@ANY").unwrap(), "bbnana");
        let a = AuthToLocal::parse("DEFAULT/L", "R").unwrap();
        assert_eq!(a.short_name_of("Bob@R").unwrap(), "bob");
    }

    #[test]
    fn a_result_that_is_still_a_principal_is_refused() {
        let a = AuthToLocal::parse("RULE:[2:$1/$2@$0]", "R").unwrap();
        let err = a.short_name_of("nn/host@R").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Non-simple name nn/host@R after auth_to_local rule RULE:[2:$1/$2@$0]"
        );
    }

    #[test]
    fn no_rules_refuse_everything_but_simple_names() {
        let a = AuthToLocal::parse("  \n ", "R").unwrap();
        assert!(a.short_name_of("alice@R").is_err());
        assert_eq!(a.short_name_of("alice").unwrap(), "alice");
    }

    #[test]
    fn malformed_rules_are_config_errors_naming_the_rule() {
        for (rules, named) in [
            ("RULE:[3:$1]", "RULE:[3:$1]"),
            ("RULE:[x:$1]", "RULE:[x:$1]"),
            ("RULE:[1:$2]", "RULE:[1:$2]"),
            ("RULE:[1:$]", "RULE:[1:$]"),
            ("RULE:[1:$1", "RULE:[1:$1"),
            ("RULE:[1:$1](a(b)", "RULE:[1:$1](a(b)"),
            ("RULE:[1:$1](x)s/a/b", "RULE:[1:$1](x)s/a/b"),
            ("RULE:[1:$1](x)s/[/b/", "RULE:[1:$1](x)s/[/b/"),
            ("DEFAULT RULES", "RULES"),
            ("DEFAULTX", "DEFAULTX"),
            ("RULE:[1:$1]/Lx", "RULE:[1:$1]/Lx"),
        ] {
            let err = AuthToLocal::parse(rules, "R").unwrap_err();
            assert!(
                matches!(&err, KerberosNameError::InvalidRule { rule, .. } if rule == named),
                "{rules}: {err}"
            );
            assert!(err.to_string().contains(named), "{err}");
            assert!(matches!(SaslError::from(err), SaslError::Config(_)));
        }
    }

    #[test]
    fn java_replacement_syntax_is_translated() {
        assert_eq!(java_replacement("$1x"), "${1}x");
        assert_eq!(java_replacement("\\$a"), "$$a");
        assert_eq!(java_replacement("hdfs"), "hdfs");
    }
}
