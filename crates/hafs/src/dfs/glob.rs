//! Hadoop-style glob patterns on one path component: `*`, `?`, `[abc]`, `[a-z]`,
//! `[^a]` / `[!a]`, `{a,b}` (nestable), and `\` escaping the next character.

/// Whether a path needs glob expansion.
pub fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '[', '{'])
}

/// Expands `{a,b}` alternatives into plain patterns (`x{a,b}y` → `xay`, `xby`).
/// At most `limit` results, so a hostile pattern cannot blow up memory.
pub fn expand_braces(p: &str, limit: usize) -> Result<Vec<String>, String> {
    let chars: Vec<char> = p.chars().collect();
    // Find the first top-level '{' not escaped.
    let mut i = 0;
    let mut open = None;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 1,
            '{' => {
                open = Some(i);
                break;
            }
            _ => {}
        }
        i += 1;
    }
    let Some(open) = open else {
        return Ok(vec![p.to_string()]);
    };
    let mut depth = 0;
    let mut parts = Vec::new();
    let mut start = open + 1;
    let mut close = None;
    let mut j = open + 1;
    while j < chars.len() {
        match chars[j] {
            '\\' => j += 1,
            '{' => depth += 1,
            '}' if depth == 0 => {
                parts.push(chars[start..j].iter().collect::<String>());
                close = Some(j);
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(chars[start..j].iter().collect::<String>());
                start = j + 1;
            }
            _ => {}
        }
        j += 1;
    }
    let Some(close) = close else {
        return Err(format!(
            "Illegal file pattern: Unclosed group near index {open}"
        ));
    };
    let prefix: String = chars[..open].iter().collect();
    let suffix: String = chars[close + 1..].iter().collect();
    let mut out = Vec::new();
    for part in parts {
        for e in expand_braces(&format!("{prefix}{part}{suffix}"), limit)? {
            if out.len() >= limit {
                return Err("Illegal file pattern: too many alternatives".to_string());
            }
            out.push(e);
        }
    }
    Ok(out)
}

/// Whether `name` matches `pat` (no braces; see [`expand_braces`]).
pub fn matches(pat: &str, name: &str) -> bool {
    let p: Vec<char> = pat.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_at(&p, &n)
}

fn match_at(p: &[char], n: &[char]) -> bool {
    // Iterative matcher with single-star backtracking (linear-ish, no recursion blowup).
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' => {
                    if let Some((ok, next)) = class_match(p, pi, n[ni]) {
                        if ok {
                            pi = next;
                            ni += 1;
                            continue;
                        }
                    } else if n[ni] == '[' {
                        // An unclosed '[' is literal.
                        pi += 1;
                        ni += 1;
                        continue;
                    }
                }
                '\\' if pi + 1 < p.len() => {
                    if p[pi + 1] == n[ni] {
                        pi += 2;
                        ni += 1;
                        continue;
                    }
                }
                c => {
                    if c == n[ni] {
                        pi += 1;
                        ni += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, sn)) => {
                pi = sp + 1;
                ni = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// Matches `c` against the class starting at `p[start] == '['`; returns (matched,
/// index after the class), or None if the class is not closed.
fn class_match(p: &[char], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = i < p.len() && (p[i] == '^' || p[i] == '!');
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < p.len() {
        if p[i] == ']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        let mut lo = p[i];
        if lo == '\\' && i + 1 < p.len() {
            i += 1;
            lo = p[i];
        }
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            let hi = p[i + 2];
            if lo <= c && c <= hi {
                matched = true;
            }
            i += 3;
        } else {
            if lo == c {
                matched = true;
            }
            i += 1;
        }
    }
    None
}

/// Whether `name` matches any brace alternative of `pat`.
pub fn matches_any(alternatives: &[String], name: &str) -> bool {
    alternatives.iter().any(|a| matches(a, name))
}

/// Removes `\` escapes from a literal component.
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            if let Some(n) = it.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_and_questions() {
        assert!(matches("*", "anything"));
        assert!(matches("*.txt", "a.txt"));
        assert!(!matches("*.txt", "a.txt.gz"));
        assert!(matches("a*b*c", "axxbyyc"));
        assert!(matches("f?le", "file"));
        assert!(!matches("f?le", "fle"));
        assert!(matches("", ""));
        assert!(!matches("", "x"));
    }

    #[test]
    fn classes_and_escapes() {
        assert!(matches("[abc]x", "bx"));
        assert!(!matches("[abc]x", "dx"));
        assert!(matches("[a-c]", "b"));
        assert!(matches("[^a-c]", "d"));
        assert!(!matches("[!a-c]", "a"));
        assert!(matches("a\\*", "a*"));
        assert!(!matches("a\\*", "ab"));
    }

    #[test]
    fn braces_expand() {
        assert_eq!(expand_braces("x{a,b}y", 100).unwrap(), vec!["xay", "xby"]);
        assert_eq!(
            expand_braces("{a,b{c,d}}", 100).unwrap(),
            vec!["a", "bc", "bd"]
        );
        assert!(expand_braces("{a,b", 100).is_err());
        let alts = expand_braces("part-{0,1}*", 100).unwrap();
        assert!(matches_any(&alts, "part-1-x"));
        assert!(!matches_any(&alts, "part-2"));
        assert!(has_glob("a/*/b") && !has_glob("/plain/path"));
        assert_eq!(unescape("a\\*b"), "a*b");
    }
}
