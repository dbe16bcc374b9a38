use super::*;

const DAY: i64 = 86_400_000;
const T0: i64 = 1_765_000_000_000;

fn cfg() -> DelegationTokenConfig {
    DelegationTokenConfig::default()
}

/// A state with its edits, as the Namesystem keeps them: every change is an edit
/// applied at once, and the log can be replayed into a fresh state.
#[derive(Default)]
struct Logged {
    state: DelegationTokens,
    log: Vec<EditOp>,
}

impl Logged {
    fn apply(&mut self, edit: EditOp) {
        self.state
            .apply(edit.op.as_ref().unwrap())
            .expect("a token edit")
            .expect("a planned edit applies");
        self.log.push(edit);
    }

    fn roll(&mut self, now: i64, key_byte: u8) {
        let e = self
            .state
            .plan_roll_master_key(now, &cfg(), vec![key_byte; 20]);
        self.apply(e);
    }

    fn issue(&mut self, now: i64, owner: &str, renewer: &str) -> Token {
        let (e, t) = self
            .state
            .plan_issue(now, &cfg(), owner, renewer, "")
            .unwrap();
        self.apply(e);
        t
    }

    fn replayed(&self) -> DelegationTokens {
        let mut s = DelegationTokens::default();
        for e in &self.log {
            s.apply(e.op.as_ref().unwrap()).unwrap().unwrap();
        }
        s
    }
}

fn invalid(r: Result<impl std::fmt::Debug, TokenOpError>) -> String {
    match r {
        Err(TokenOpError::InvalidToken(m)) => m,
        other => panic!("expected InvalidToken, got {other:?}"),
    }
}

fn denied(r: Result<impl std::fmt::Debug, TokenOpError>) -> String {
    match r {
        Err(TokenOpError::AccessControl(m)) => m,
        other => panic!("expected AccessControlException, got {other:?}"),
    }
}

#[test]
fn issue_needs_a_master_key_and_signs_with_the_current_one() {
    let mut l = Logged::default();
    assert!(l.state.key_roll_due(T0, &cfg()));
    assert!(matches!(
        l.state.plan_issue(T0, &cfg(), "alice@R", "yarn", ""),
        Err(TokenOpError::Io(_))
    ));
    l.roll(T0, 1);
    assert!(!l.state.key_roll_due(T0 + DAY - 1, &cfg()));
    assert!(l.state.key_roll_due(T0 + DAY, &cfg()));
    let t = l.issue(T0, "alice@R", "yarn");
    let id = t.delegation_identifier().unwrap();
    assert_eq!(
        (
            id.owner.as_str(),
            id.renewer.as_str(),
            id.real_user.as_str()
        ),
        ("alice@R", "yarn", "")
    );
    assert_eq!((id.issue_date, id.max_date), (T0, T0 + 7 * DAY));
    assert_eq!((id.sequence_number, id.master_key_id), (1, 1));
    assert_eq!(t.password, create_password(&t.identifier, &[1; 20]));
    assert_eq!(t.kind, "HDFS_DELEGATION_TOKEN");
    assert_eq!(
        l.state.retrieve_password(T0 + 1, &t.identifier).unwrap(),
        t.password
    );
    // Sequence numbers go up by one per token.
    let t2 = l.issue(T0 + 5, "bob@R", "");
    assert_eq!(t2.delegation_identifier().unwrap().sequence_number, 2);
    assert_eq!(l.state.sequence_number(), 2);
}

#[test]
fn tokens_expire_at_the_renew_date_and_renewals_stop_at_max_date() {
    let mut l = Logged::default();
    l.roll(T0, 1);
    let t = l.issue(T0, "alice@R", "yarn");
    let m = invalid(l.state.retrieve_password(T0 + DAY + 1, &t.identifier));
    assert!(
        m.starts_with("token (token for alice: HDFS_DELEGATION_TOKEN owner=alice@R, renewer=yarn"),
        "{m}"
    );
    assert!(m.contains(") is expired, current time: "), "{m}");
    assert!(m.contains(" expected renewal time: "), "{m}");
    // Renewed by yarn a day later: good for another day.
    let (e, exp) = l.state.plan_renew(T0 + DAY, &cfg(), &t, "yarn").unwrap();
    assert_eq!(exp, T0 + 2 * DAY);
    l.apply(e);
    assert!(l
        .state
        .retrieve_password(T0 + DAY + 1, &t.identifier)
        .is_ok());
    // Late in its life a renewal is capped at max date; after it, refused.
    let (_, exp) = l
        .state
        .plan_renew(T0 + 6 * DAY + 5, &cfg(), &t, "yarn")
        .unwrap();
    assert_eq!(exp, T0 + 7 * DAY);
    let m = invalid(l.state.plan_renew(T0 + 7 * DAY + 1, &cfg(), &t, "yarn"));
    assert!(
        m.starts_with("yarn tried to renew an expired token (token for alice"),
        "{m}"
    );
    assert!(m.contains(" max expiration date: "), "{m}");
}

#[test]
fn only_the_renewer_renews_with_hadoops_messages() {
    let mut l = Logged::default();
    l.roll(T0, 1);
    let t = l.issue(T0, "alice@R", "yarn");
    let m = denied(l.state.plan_renew(T0, &cfg(), &t, "alice"));
    assert!(
        m.starts_with("alice tries to renew a token (token for alice: "),
        "{m}"
    );
    assert!(m.ends_with(") with non-matching renewer yarn"), "{m}");
    let none = l.issue(T0, "alice@R", "");
    let m = denied(l.state.plan_renew(T0, &cfg(), &none, "yarn"));
    assert!(m.ends_with(" without a renewer"), "{m}");
    // A forged password.
    let mut forged = t.clone();
    forged.password[0] ^= 1;
    let m = denied(l.state.plan_renew(T0, &cfg(), &forged, "yarn"));
    assert!(
        m.starts_with("yarn is trying to renew a token (") && m.ends_with(" with wrong password"),
        "{m}"
    );
}

#[test]
fn owner_or_renewer_cancels_and_a_cancelled_token_is_gone() {
    let mut l = Logged::default();
    l.roll(T0, 1);
    let t = l.issue(T0, "alice@R", "yarn");
    let m = denied(l.state.plan_cancel(&t, "mallory@R", "mallory"));
    assert!(
        m.starts_with("mallory@R is not authorized to cancel the token (token for alice"),
        "{m}"
    );
    // The renewer by short name, the owner by full name.
    assert!(l.state.plan_cancel(&t, "yarn/rm@R", "yarn").is_ok());
    let e = l.state.plan_cancel(&t, "alice@R", "alice").unwrap();
    l.apply(e);
    let m = invalid(l.state.retrieve_password(T0, &t.identifier));
    assert!(m.ends_with(") can't be found in cache"), "{m}");
    let m = invalid(l.state.plan_cancel(&t, "alice@R", "alice"));
    assert!(m.starts_with("Token not found (token for alice"), "{m}");
    let m = invalid(l.state.plan_renew(T0, &cfg(), &t, "yarn"));
    assert!(m.starts_with("Renewal request for unknown token ("), "{m}");
}

#[test]
fn a_token_signed_by_an_unknown_key_is_refused() {
    let mut l = Logged::default();
    l.roll(T0, 1);
    let t = l.issue(T0, "alice@R", "yarn");
    // Another cluster's secret manager, same names and numbers, different key.
    let mut other = Logged::default();
    other.roll(T0, 9);
    let foreign = other.issue(T0, "alice@R", "yarn");
    assert_eq!(foreign.identifier, t.identifier);
    assert_ne!(foreign.password, t.password);
    let m = denied(l.state.plan_renew(T0, &cfg(), &foreign, "yarn"));
    assert!(m.ends_with(" with wrong password"), "{m}");
    // An identifier naming a key we never had.
    let mut id = t.delegation_identifier().unwrap();
    id.master_key_id = 77;
    let bogus = Token::delegation(&id, vec![0; 20], "");
    let m = invalid(l.state.plan_renew(T0, &cfg(), &bogus, "yarn"));
    assert!(
        m.starts_with("Unable to find master key for keyId=77 from cache."),
        "{m}"
    );
    assert!(
        invalid(l.state.retrieve_password(T0, &id.encode())).ends_with("can't be found in cache")
    );
    // Garbage identifiers are InvalidToken, never a panic.
    for junk in [&b""[..], b"\x01", b"\x00\x05ab", &[0xff; 40]] {
        invalid(l.state.retrieve_password(T0, junk));
    }
}

#[test]
fn keys_roll_drop_expired_keys_and_ids_only_go_up() {
    let mut l = Logged::default();
    l.roll(T0, 1);
    let t = l.issue(T0, "alice@R", "yarn");
    l.roll(T0 + DAY, 2);
    assert_eq!((l.state.current_key_id(), l.state.key_count()), (2, 2));
    // A token signed by the old key stays valid after the roll.
    assert!(l.state.retrieve_password(T0 + DAY, &t.identifier).is_ok());
    let t2 = l.issue(T0 + DAY, "bob@R", "yarn");
    assert_eq!(t2.delegation_identifier().unwrap().master_key_id, 2);
    // Key 1 expires 1 day + 7 days after it was made; once its tokens are removed, the
    // next roll drops it.
    for e in l.state.plan_remove_expired(T0 + 9 * DAY) {
        l.apply(e);
    }
    l.roll(T0 + 9 * DAY, 3);
    assert_eq!(l.state.key_count(), 2);
    // A repeated or older key id is a corrupt log.
    let mut replay = l.state.clone();
    let old = l.log[0].clone();
    assert!(replay.apply(old.op.as_ref().unwrap()).unwrap().is_err());
    assert_eq!(replay, l.state, "a refused edit changes nothing");
}

#[test]
fn a_key_a_live_token_names_is_kept_past_its_expiry() {
    let mut l = Logged::default();
    l.roll(T0, 1);
    let t = l.issue(T0, "alice@R", "yarn");
    // Long after key 1 expired, with the (expired) token never removed: the roll keeps
    // key 1, so the state still saves and loads, and a replay still applies.
    l.roll(T0 + 30 * DAY, 2);
    assert_eq!(l.state.key_count(), 2);
    let section = l.state.save_section().unwrap();
    assert_eq!(
        DelegationTokens::load_section(Some(&section)).unwrap(),
        l.state
    );
    assert_eq!(l.replayed(), l.state);
    // Once the token is gone, the next roll drops the key.
    for e in l.state.plan_remove_expired(T0 + 30 * DAY) {
        l.apply(e);
    }
    l.roll(T0 + 31 * DAY, 3);
    assert_eq!(l.state.key_count(), 2, "keys 2 and 3");
    assert!(l.state.retrieve_password(T0, &t.identifier).is_err());
    // An edit dropping a key a token needs is a corrupt log.
    let mut s = DelegationTokens::default();
    let roll = s.plan_roll_master_key(T0, &cfg(), vec![1; 20]);
    s.apply(roll.op.as_ref().unwrap()).unwrap().unwrap();
    let (issue, _) = s.plan_issue(T0, &cfg(), "alice@R", "", "").unwrap();
    s.apply(issue.op.as_ref().unwrap()).unwrap().unwrap();
    let bad = op(Op::UpdateMasterKey(UpdateMasterKeyOp {
        key: Some(pb::DelegationKey {
            key_id: 2,
            expiry_date: T0 + 9 * DAY,
            key: vec![2; 20].into(),
        }),
        expired_key_ids: vec![1],
    }));
    assert!(s.apply(bad.op.as_ref().unwrap()).unwrap().is_err());
}

#[test]
fn replaying_the_log_and_reloading_the_image_give_the_same_state() {
    let mut l = Logged::default();
    l.roll(T0, 1);
    let a = l.issue(T0, "alice@R", "yarn");
    let b = l.issue(T0 + 1, "bob@R", "yarn");
    let (e, _) = l.state.plan_renew(T0 + 2, &cfg(), &a, "yarn").unwrap();
    l.apply(e);
    l.roll(T0 + DAY, 2);
    let c = l.issue(T0 + DAY, "carol@R", "");
    let e = l.state.plan_cancel(&b, "bob@R", "bob").unwrap();
    l.apply(e);
    for e in l.state.plan_remove_expired(T0 + 3 * DAY) {
        l.apply(e);
    }
    assert_eq!(l.state.token_count(), 0);
    let d = l.issue(T0 + 3 * DAY, "dave@R", "");
    assert_eq!(l.replayed(), l.state);
    let section = l.state.save_section().unwrap();
    let loaded = DelegationTokens::load_section(Some(&section)).unwrap();
    assert_eq!(loaded, l.state);
    assert_eq!(loaded.sequence_number(), 4);
    assert_eq!(
        loaded
            .retrieve_password(T0 + 3 * DAY, &d.identifier)
            .unwrap(),
        d.password
    );
    let _ = c;
    // An image from before tokens existed: empty, and an empty state writes no section.
    assert_eq!(
        DelegationTokens::load_section(None).unwrap(),
        DelegationTokens::default()
    );
    assert!(DelegationTokens::default().save_section().is_none());
    // Sequence numbers never go down across a replay onto a loaded image.
    let mut onto = loaded.clone();
    let first_issue = l
        .log
        .iter()
        .find(|e| matches!(e.op, Some(Op::GetDelegationToken(_))))
        .unwrap();
    onto.tokens.clear();
    onto.apply(first_issue.op.as_ref().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(onto.sequence_number(), 4);
}

#[test]
fn hostile_image_sections_are_refused() {
    let mut l = Logged::default();
    l.roll(T0, 1);
    l.issue(T0, "alice@R", "yarn");
    let good = l.state.save_section().unwrap();
    let mut s = good.clone();
    s.sequence_number = 0;
    assert!(DelegationTokens::load_section(Some(&s)).is_err());
    let mut s = good.clone();
    s.current_key_id = 0;
    assert!(DelegationTokens::load_section(Some(&s)).is_err());
    let mut s = good.clone();
    s.keys.clear();
    assert!(
        DelegationTokens::load_section(Some(&s)).is_err(),
        "a token without its key"
    );
    let mut s = good.clone();
    s.keys[0].key = vec![0u8; 5000].into();
    assert!(DelegationTokens::load_section(Some(&s)).is_err());
    let mut s = good;
    s.tokens.push(s.tokens[0].clone());
    assert!(
        DelegationTokens::load_section(Some(&s)).is_err(),
        "a token twice"
    );
}
