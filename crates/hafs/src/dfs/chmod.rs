//! Parsing of `-chmod` modes (octal or symbolic) and `-chown`/`-chgrp` owner specs,
//! with Hadoop's accepted syntax.

/// One symbolic clause: `[ugoa]*[+-=][rwxXt]*`.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    /// Bit mask of the classes: 0o700 user, 0o070 group, 0o007 other.
    who: u16,
    op: char,
    read: bool,
    write: bool,
    exec: bool,
    /// `X`: execute only for directories or files already executable by someone.
    cond_exec: bool,
    sticky: bool,
}

/// A parsed mode, applied to each file's current permission.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    Octal(u16),
    Symbolic(Vec<Clause>),
}

/// Hadoop's message for a mode it cannot parse.
pub fn bad_mode(mode: &str) -> String {
    format!("chmod : mode '{mode}' does not match the expected pattern.")
}

impl Mode {
    /// `755`, `0644`, `1777` (leading digit 0 or 1 = sticky), or comma-separated
    /// clauses like `u+x,g-w`, `a=r`, `+t`, `go=`.
    pub fn parse(s: &str) -> Result<Mode, String> {
        let t = s.trim();
        if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
            let ok = match t.len() {
                3 => true,
                4 => t.starts_with('0') || t.starts_with('1'),
                _ => false,
            };
            if !ok || t.bytes().any(|b| b > b'7') {
                return Err(bad_mode(s));
            }
            return u16::from_str_radix(t, 8)
                .map(Mode::Octal)
                .map_err(|_| bad_mode(s));
        }
        let mut clauses = Vec::new();
        for part in t.split(',') {
            let part = part.trim();
            let mut chars = part.chars().peekable();
            let mut who = 0u16;
            while let Some(&c) = chars.peek() {
                match c {
                    'u' => who |= 0o700,
                    'g' => who |= 0o070,
                    'o' => who |= 0o007,
                    'a' => who |= 0o777,
                    _ => break,
                }
                chars.next();
            }
            if who == 0 {
                who = 0o777;
            }
            // One or more operator+permission groups may follow the same classes.
            let mut any = false;
            while let Some(op) = chars.next() {
                if !matches!(op, '+' | '-' | '=') {
                    return Err(bad_mode(s));
                }
                let mut cl = Clause {
                    who,
                    op,
                    read: false,
                    write: false,
                    exec: false,
                    cond_exec: false,
                    sticky: false,
                };
                while let Some(&c) = chars.peek() {
                    match c {
                        'r' => cl.read = true,
                        'w' => cl.write = true,
                        'x' => cl.exec = true,
                        'X' => cl.cond_exec = true,
                        't' => cl.sticky = true,
                        _ => break,
                    }
                    chars.next();
                }
                clauses.push(cl);
                any = true;
            }
            if !any {
                return Err(bad_mode(s));
            }
        }
        Ok(Mode::Symbolic(clauses))
    }

    /// The new permission of a file with permission `old`, with Hadoop's
    /// PermissionParser semantics: for each class (user, group, other, and the sticky
    /// bit, which goes with "other"), the LAST clause naming that class decides its
    /// operator and bits, and that one operation is applied to the old bits. So
    /// `a-w,u+x` on 624 gives 704, as the Java shell does, not 504.
    pub fn apply(&self, old: u16, is_dir: bool) -> u16 {
        let clauses = match self {
            Mode::Octal(m) => return *m,
            Mode::Symbolic(clauses) => clauses,
        };
        // (op, rwx bits, capital X) per class; '+' with nothing changes nothing.
        let mut class = [('+', 0u16, false); 3];
        let mut sticky = ('+', 0u16);
        for c in clauses {
            let mut bits = 0u16;
            if c.read {
                bits |= 4;
            }
            if c.write {
                bits |= 2;
            }
            if c.exec {
                bits |= 1;
            }
            for (i, shift) in [6u16, 3, 0].into_iter().enumerate() {
                if (c.who >> shift) & 7 != 0 {
                    class[i] = (c.op, bits, c.cond_exec);
                }
            }
            if c.who & 0o007 != 0 {
                sticky = (c.op, u16::from(c.sticky));
            }
        }
        let exe_ok = is_dir || old & 0o111 != 0;
        let combine = |(op, mut mode, cap_x): (char, u16, bool), existing: u16| -> u16 {
            if cap_x {
                mode |= 1;
            }
            let mut out = match op {
                '+' => mode | existing,
                '-' => !mode & existing,
                _ => mode,
            } & 7;
            if cap_x && !exe_ok && out & 1 != 0 && existing & 1 == 0 {
                out &= !1;
            }
            out
        };
        let s = match sticky.0 {
            '+' => sticky.1 | (old >> 9) & 1,
            '-' => !sticky.1 & (old >> 9) & 1,
            _ => sticky.1,
        } & 1;
        (s << 9)
            | (combine(class[0], (old >> 6) & 7) << 6)
            | (combine(class[1], (old >> 3) & 7) << 3)
            | combine(class[2], old & 7)
    }
}

fn owner_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | '@')
}

/// `OWNER[:GROUP]` or `:GROUP` → (owner, group); an empty part is "leave unchanged".
pub fn parse_owner_group(s: &str) -> Result<(Option<String>, Option<String>), String> {
    let t = s.trim();
    let (owner, group) = match t.split_once(':') {
        Some((o, g)) => (o, Some(g)),
        None => (t, None),
    };
    let valid = owner.chars().all(owner_char) && group.is_none_or(|g| g.chars().all(owner_char));
    let owner = (!owner.is_empty()).then(|| owner.to_string());
    let group = group.filter(|g| !g.is_empty()).map(str::to_string);
    if !valid || (owner.is_none() && group.is_none()) {
        return Err(format!(
            "'{s}' does not match expected pattern for [owner][:group]."
        ));
    }
    Ok((owner, group))
}

/// A `-chgrp` group name.
pub fn parse_group(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() || !t.chars().all(owner_char) {
        return Err(format!("'{s}' does not match expected pattern for group"));
    }
    Ok(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym(mode: &str, old: u16, dir: bool) -> u16 {
        Mode::parse(mode).unwrap().apply(old, dir)
    }

    #[test]
    fn octal_modes() {
        assert_eq!(Mode::parse("755").unwrap(), Mode::Octal(0o755));
        assert_eq!(Mode::parse("0644").unwrap(), Mode::Octal(0o644));
        assert_eq!(Mode::parse("1777").unwrap(), Mode::Octal(0o1777));
        assert!(Mode::parse("2755").is_err());
        assert!(Mode::parse("789").is_err());
        assert!(Mode::parse("75").is_err());
    }

    #[test]
    fn symbolic_modes() {
        assert_eq!(sym("u+x,g-w", 0o664, false), 0o744);
        assert_eq!(sym("a=r", 0o777, false), 0o444);
        assert_eq!(sym("+x", 0o644, false), 0o755);
        assert_eq!(sym("go=", 0o755, true), 0o700);
        assert_eq!(sym("o+t", 0o777, true), 0o1777);
        assert_eq!(sym("-t", 0o1777, true), 0o777);
        assert_eq!(sym("u=rwx,go=rx", 0o000, false), 0o755);
        // The last clause for a class wins (Hadoop's PermissionParser): here `-w` for u.
        assert_eq!(sym("u+r-w", 0o200, false), 0o000);
        assert_eq!(sym("a-w,u+x", 0o624, false), 0o704);
        assert_eq!(sym("g+w,o+r", 0o600, false), 0o624);
    }

    #[test]
    fn capital_x_only_for_dirs_or_executables() {
        assert_eq!(sym("a+X", 0o644, false), 0o644);
        assert_eq!(sym("a+X", 0o644, true), 0o755);
        assert_eq!(sym("a+X", 0o744, false), 0o755);
    }

    #[test]
    fn bad_symbolic_modes() {
        for m in ["", "u", "z+x", "u+x,", "u*x"] {
            assert!(Mode::parse(m).is_err(), "{m:?} should be rejected");
        }
        assert_eq!(
            Mode::parse("bogus").unwrap_err(),
            "chmod : mode 'bogus' does not match the expected pattern."
        );
    }

    #[test]
    fn owner_group_specs() {
        assert_eq!(
            parse_owner_group("alice").unwrap(),
            (Some("alice".into()), None)
        );
        assert_eq!(
            parse_owner_group("alice:staff").unwrap(),
            (Some("alice".into()), Some("staff".into()))
        );
        assert_eq!(
            parse_owner_group(":staff").unwrap(),
            (None, Some("staff".into()))
        );
        assert!(parse_owner_group(":").is_err());
        assert!(parse_owner_group("a b").is_err());
        assert_eq!(parse_group("hadoop").unwrap(), "hadoop");
        assert!(parse_group("").is_err());
    }
}
