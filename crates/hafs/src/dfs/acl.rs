//! `-setfacl` / `-getfacl` text (Hadoop's AclCommands, AclEntry.parseAclSpec and
//! AclUtil): ACL specs in, `getfacl` listings out. No IO.

use hafs_client::proto::{
    acl_entry_proto::{AclEntryScopeProto as Scope, AclEntryTypeProto as Type, FsActionProto},
    AclEntryProto, AclStatusProto,
};

/// `rwx` symbols of FsAction, by its number (r = 4, w = 2, x = 1).
fn symbol(bits: i32) -> String {
    let b = bits & 7;
    format!(
        "{}{}{}",
        if b & 4 != 0 { 'r' } else { '-' },
        if b & 2 != 0 { 'w' } else { '-' },
        if b & 1 != 0 { 'x' } else { '-' }
    )
}

/// FsAction.getFsAction: exactly a `rwx`-style symbol.
fn parse_symbol(s: &str) -> Option<i32> {
    let b = s.as_bytes();
    if b.len() != 3 {
        return None;
    }
    let bit = |c: u8, want: u8, v: i32| match c {
        _ if c == want => Some(v),
        b'-' => Some(0),
        _ => None,
    };
    Some(bit(b[0], b'r', 4)? | bit(b[1], b'w', 2)? | bit(b[2], b'x', 1)?)
}

/// One entry of an ACL spec (Hadoop's AclEntry.parseAclEntry):
/// `[default:]<user|group|mask|other>:[name][:perm]`; the permission is required
/// (`with_perm`) except for `-x`. Errors are HadoopIllegalArgumentException messages.
fn parse_entry(text: &str, with_perm: bool) -> Result<AclEntryProto, String> {
    let split: Vec<&str> = text.split(':').collect();
    let invalid = || format!("Invalid <aclSpec> : {text}");
    let mut i = 0;
    let mut scope = Scope::Access;
    if split[0] == "default" {
        scope = Scope::Default;
        i += 1;
    }
    let type_word = split.get(i).ok_or_else(invalid)?;
    let r#type = match type_word.to_ascii_uppercase().as_str() {
        "USER" => Type::User,
        "GROUP" => Type::Group,
        "MASK" => Type::Mask,
        "OTHER" => Type::Other,
        _ => return Err(format!("Invalid type of acl in <aclSpec> :{text}")),
    };
    i += 1;
    let mut name = None;
    if let Some(n) = split.get(i) {
        if !n.is_empty() {
            name = Some(n.to_string());
        }
        i += 1;
    }
    let mut perm = 0;
    if with_perm {
        let p = split.get(i).ok_or_else(invalid)?;
        perm =
            parse_symbol(p).ok_or_else(|| format!("Invalid permission in <aclSpec> : {text}"))?;
        i += 1;
    }
    if split.len() > i {
        return Err(invalid());
    }
    Ok(AclEntryProto {
        r#type: r#type as i32,
        scope: scope as i32,
        permissions: FsActionProto::try_from(perm).unwrap_or(FsActionProto::None) as i32,
        name,
    })
}

/// Hadoop's AclEntry.parseAclSpec: comma-separated entries.
pub fn parse_acl_spec(spec: &str, with_perm: bool) -> Result<Vec<AclEntryProto>, String> {
    spec.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| parse_entry(s, with_perm))
        .collect()
}

/// AclEntry.toStringStable: `[default:]type:name:perm`.
fn entry_string(e: &AclEntryProto) -> String {
    let scope = if e.scope == Scope::Default as i32 {
        "default:"
    } else {
        ""
    };
    let t = match Type::try_from(e.r#type) {
        Ok(Type::User) => "user",
        Ok(Type::Group) => "group",
        Ok(Type::Mask) => "mask",
        _ => "other",
    };
    format!(
        "{scope}{t}:{}:{}",
        e.name.as_deref().unwrap_or(""),
        symbol(e.permissions)
    )
}

fn entry(scope: Scope, t: Type, perm: u16) -> AclEntryProto {
    AclEntryProto {
        r#type: t as i32,
        scope: scope as i32,
        permissions: i32::from(perm & 7),
        name: None,
    }
}

/// AclUtil.getAclFromPermAndEntries: the whole logical ACL from the permission bits
/// and the extended entries getAclStatus returns.
fn full_acl(perm: u16, entries: &[AclEntryProto]) -> Vec<AclEntryProto> {
    if entries.is_empty() {
        return vec![
            entry(Scope::Access, Type::User, perm >> 6),
            entry(Scope::Access, Type::Group, perm >> 3),
            entry(Scope::Access, Type::Other, perm),
        ];
    }
    let (access, default): (Vec<&AclEntryProto>, Vec<&AclEntryProto>) = entries
        .iter()
        .partition(|e| e.scope == Scope::Access as i32);
    let mut acl = vec![entry(Scope::Access, Type::User, perm >> 6)];
    acl.extend(access.iter().map(|e| (*e).clone()));
    let group_or_mask = if access.is_empty() {
        Type::Group
    } else {
        Type::Mask
    };
    acl.push(entry(Scope::Access, group_or_mask, perm >> 3));
    acl.push(entry(Scope::Access, Type::Other, perm));
    acl.extend(default.iter().map(|e| (*e).clone()));
    acl
}

/// AclStatus.getEffectivePermission: named entries and the group entry are limited by
/// the mask of their scope (the group bits for the access scope).
fn effective(e: &AclEntryProto, perm: u16, all: &[AclEntryProto]) -> i32 {
    let masked = e.name.is_some() || e.r#type == Type::Group as i32;
    if !masked || e.r#type == Type::Mask as i32 {
        return e.permissions;
    }
    let mask = if e.scope == Scope::Access as i32 {
        i32::from((perm >> 3) & 7)
    } else {
        all.iter()
            .find(|m| m.scope == Scope::Default as i32 && m.r#type == Type::Mask as i32)
            .map_or(7, |m| m.permissions)
    };
    e.permissions & mask
}

/// The lines `-getfacl` prints for one path (Hadoop's GetfaclCommand), the blank line
/// after them included. `status` is the getAclStatus answer when the path has an ACL.
pub fn getfacl_lines(
    display: &str,
    owner: &str,
    group: &str,
    perm: u16,
    status: Option<&AclStatusProto>,
) -> Vec<String> {
    let mut out = vec![
        format!("# file: {display}"),
        format!("# owner: {owner}"),
        format!("# group: {group}"),
    ];
    if perm & 0o1000 != 0 {
        let t = if perm & 1 != 0 { 't' } else { 'T' };
        out.push(format!("# flags: --{t}"));
    }
    let entries = status.map(|s| s.entries.as_slice()).unwrap_or(&[]);
    // The server's permission bits, when it sends them, are the more accurate.
    let perm = status
        .and_then(|s| s.permission.as_ref())
        .map_or(perm, |p| (p.perm & 0o7777) as u16);
    let acl = full_acl(perm, entries);
    for scope in [Scope::Access, Scope::Default] {
        let scoped: Vec<&AclEntryProto> = acl.iter().filter(|e| e.scope == scope as i32).collect();
        let minimal = scoped.len() == 3;
        for e in scoped {
            let eff = effective(e, perm, &acl);
            if status.is_some() && !minimal && eff != e.permissions {
                out.push(format!("{}\t#effective:{}", entry_string(e), symbol(eff)));
            } else {
                out.push(entry_string(e));
            }
        }
    }
    out.push(String::new());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_as_hadoop() {
        let e = parse_acl_spec("user:bob:r-x,default:group::rwx,mask::r--", true).unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!(entry_string(&e[0]), "user:bob:r-x");
        assert_eq!(entry_string(&e[1]), "default:group::rwx");
        assert_eq!(entry_string(&e[2]), "mask::r--");
        let x = parse_acl_spec("user:bob,default:user:carol", false).unwrap();
        assert_eq!(x[1].scope, Scope::Default as i32);
        for (spec, msg) in [
            ("user:bob", "Invalid <aclSpec> : user:bob"),
            (
                "person:bob:rwx",
                "Invalid type of acl in <aclSpec> :person:bob:rwx",
            ),
            (
                "user:bob:rwz",
                "Invalid permission in <aclSpec> : user:bob:rwz",
            ),
            (
                "user:bob:rwx:extra",
                "Invalid <aclSpec> : user:bob:rwx:extra",
            ),
        ] {
            assert_eq!(parse_acl_spec(spec, true).unwrap_err(), msg);
        }
    }

    #[test]
    fn getfacl_like_hadoop() {
        assert_eq!(
            getfacl_lines("/d", "alice", "staff", 0o1755, None),
            [
                "# file: /d",
                "# owner: alice",
                "# group: staff",
                "# flags: --t",
                "user::rwx",
                "group::r-x",
                "other::r-x",
                ""
            ]
        );
        let status = AclStatusProto {
            owner: "alice".into(),
            group: "staff".into(),
            sticky: false,
            entries: parse_acl_spec("user:bob:rwx,group::r-x,default:user::rwx", true).unwrap(),
            permission: None,
        };
        // Mask r-- (group bits 4) limits bob and the group entry.
        assert_eq!(
            getfacl_lines("/d", "alice", "staff", 0o740, Some(&status)),
            [
                "# file: /d",
                "# owner: alice",
                "# group: staff",
                "user::rwx",
                "user:bob:rwx\t#effective:r--",
                "group::r-x\t#effective:r--",
                "mask::r--",
                "other::---",
                "default:user::rwx",
                ""
            ]
        );
    }
}
