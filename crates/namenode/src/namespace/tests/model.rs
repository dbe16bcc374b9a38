//! Randomized model check: thousands of random operations over a small path alphabet,
//! run against the namespace and against a simple map of full paths. After every op
//! the results (ok / which exception) and the whole trees must agree. The logged ops,
//! replayed into a fresh namespace, must give identical image bytes, and the image
//! must round-trip.

use std::collections::BTreeMap;

use super::*;

const SUPERGROUP: &str = "supergroup";

#[derive(Debug, Clone, PartialEq, Eq)]
struct M {
    dir: bool,
    perm: u16,
    owner: String,
    group: String,
    mtime: i64,
    atime: i64,
    uc: Option<String>,
    repl: u16,
    len: u64,
    nblocks: usize,
}

type R = Result<bool, &'static str>;

const FNF: &str = "java.io.FileNotFoundException";
const EXISTS: &str = "org.apache.hadoop.fs.FileAlreadyExistsException";
const PND: &str = "org.apache.hadoop.fs.ParentNotDirectoryException";
const NOT_EMPTY: &str = "org.apache.hadoop.fs.PathIsNotEmptyDirectoryException";
const ACE: &str = "org.apache.hadoop.security.AccessControlException";
const ABCE: &str = "org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException";
const LEASE: &str = "org.apache.hadoop.hdfs.server.namenode.LeaseExpiredException";
const IO: &str = "java.io.IOException";

fn parent(p: &str) -> String {
    match p.rfind('/') {
        Some(0) | None => "/".to_string(),
        Some(i) => p[..i].to_string(),
    }
}

fn name(p: &str) -> &str {
    &p[p.rfind('/').map_or(0, |i| i + 1)..]
}

/// Proper ancestors below the root, top-down: "/a", "/a/b" for "/a/b/c".
fn ancestors(p: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, ch) in p.char_indices().skip(1) {
        if ch == '/' {
            out.push(p[..i].to_string());
        }
    }
    out
}

fn under(p: &str, root: &str) -> bool {
    p == root || p.starts_with(&format!("{root}/"))
}

struct Model {
    m: BTreeMap<String, M>,
}

impl Model {
    fn new() -> Model {
        let mut m = BTreeMap::new();
        m.insert(
            "/".to_string(),
            M {
                dir: true,
                perm: 0o755,
                owner: "hdfs".into(),
                group: SUPERGROUP.into(),
                mtime: 1000,
                atime: 0,
                uc: None,
                repl: 0,
                len: 0,
                nblocks: 0,
            },
        );
        Model { m }
    }

    fn is_dir(&self, p: &str) -> Option<bool> {
        self.m.get(p).map(|n| n.dir)
    }

    /// The first existing ancestor that is a file (resolution fails there).
    fn anc_file(&self, p: &str) -> bool {
        for a in ancestors(p) {
            match self.is_dir(&a) {
                None => return false,
                Some(false) => return true,
                Some(true) => {}
            }
        }
        false
    }

    fn deepest_existing(&self, p: &str) -> String {
        let mut d = "/".to_string();
        for a in ancestors(p) {
            if self.m.contains_key(&a) {
                d = a;
            } else {
                break;
            }
        }
        d
    }

    fn touch(&mut self, p: &str, now: i64) {
        if let Some(n) = self.m.get_mut(&parent(p)) {
            n.mtime = now;
        }
    }

    fn remove(&mut self, p: &str) {
        self.m.retain(|k, _| !under(k, p));
    }

    fn has_children(&self, p: &str) -> bool {
        let prefix = if p == "/" {
            "/".to_string()
        } else {
            format!("{p}/")
        };
        self.m
            .keys()
            .any(|k| k.starts_with(&prefix) && k.len() > prefix.len())
    }

    fn mk_missing(
        &mut self,
        dirs: &[String],
        perm_of: impl Fn(&str) -> u16,
        group: &str,
        now: i64,
    ) {
        for d in dirs {
            if !self.m.contains_key(d) {
                self.m.insert(
                    d.clone(),
                    M {
                        dir: true,
                        perm: perm_of(d),
                        owner: "hdfs".into(),
                        group: group.into(),
                        mtime: now,
                        atime: 0,
                        uc: None,
                        repl: 0,
                        len: 0,
                        nblocks: 0,
                    },
                );
                self.touch(d, now);
            }
        }
    }

    fn mkdirs(&mut self, p: &str, perm: u16, cp: bool, now: i64) -> R {
        if self.anc_file(p) {
            return Err(PND);
        }
        match self.is_dir(p) {
            Some(false) => return Err(EXISTS),
            Some(true) => return Ok(true),
            None => {}
        }
        if !cp && !self.m.contains_key(&parent(p)) {
            return Err(FNF);
        }
        let group = self.m[&self.deepest_existing(p)].group.clone();
        let mut dirs = ancestors(p);
        dirs.push(p.to_string());
        let target = p.to_string();
        self.mk_missing(
            &dirs,
            |d| {
                if d == target {
                    perm
                } else {
                    (perm | 0o300) & 0o777
                }
            },
            &group,
            now,
        );
        Ok(true)
    }

    fn create(&mut self, p: &str, overwrite: bool, cp: bool, client: &str, now: i64) -> R {
        if self.anc_file(p) {
            return Err(PND);
        }
        if self.is_dir(p) == Some(true) {
            return Err(EXISTS);
        }
        if !cp && !self.m.contains_key(&parent(p)) {
            return Err(FNF);
        }
        if let Some(n) = self.m.get(p) {
            if !overwrite {
                return Err(if n.uc.is_some() { ABCE } else { EXISTS });
            }
        }
        let deepest = self.m[&self.deepest_existing(p)].clone();
        let anc_perm = (deepest.perm | 0o300) & 0o777;
        self.mk_missing(&ancestors(p), |_| anc_perm, &deepest.group, now);
        self.remove(p);
        let group = self.m[&parent(p)].group.clone();
        self.m.insert(
            p.to_string(),
            M {
                dir: false,
                perm: 0o644,
                owner: "hdfs".into(),
                group,
                mtime: now,
                atime: now,
                uc: Some(client.into()),
                repl: 3,
                len: 0,
                nblocks: 0,
            },
        );
        self.touch(p, now);
        Ok(true)
    }

    fn close(&mut self, p: &str, client: &str, now: i64) -> R {
        let Some(n) = self.m.get_mut(p) else {
            return Err(FNF);
        };
        if n.dir {
            return Err(FNF);
        }
        match &n.uc {
            None => return Err(LEASE),
            Some(c) if c != client => return Err(LEASE),
            Some(_) => {}
        }
        n.uc = None;
        n.mtime = now;
        n.len = 7;
        n.nblocks = 1;
        Ok(true)
    }

    /// addBlock committing the last block at 5 more bytes than it had.
    fn add_block(&mut self, p: &str, client: &str) -> R {
        let Some(n) = self.m.get_mut(p) else {
            return Err(FNF);
        };
        if n.dir {
            return Err(FNF);
        }
        match &n.uc {
            Some(c) if c == client => {}
            _ => return Err(LEASE),
        }
        if n.nblocks > 0 {
            n.len += 5;
        }
        n.nblocks += 1;
        Ok(true)
    }

    fn append(&mut self, p: &str, client: &str) -> R {
        if self.anc_file(p) {
            return Err(ACE);
        }
        let Some(n) = self.m.get_mut(p) else {
            return Err(FNF);
        };
        if n.dir {
            return Err(FNF);
        }
        if n.uc.is_some() {
            return Err(ABCE);
        }
        n.uc = Some(client.into());
        Ok(true)
    }

    fn delete(&mut self, p: &str, recursive: bool, now: i64) -> R {
        if self.anc_file(p) {
            return Err(ACE);
        }
        if !self.m.contains_key(p) {
            return Ok(false);
        }
        if !recursive && self.has_children(p) {
            return Err(NOT_EMPTY);
        }
        self.remove(p);
        self.touch(p, now);
        Ok(true)
    }

    fn do_move(&mut self, src: &str, dst: &str, now: i64) {
        let moved: Vec<(String, M)> = self
            .m
            .iter()
            .filter(|(k, _)| under(k, src))
            .map(|(k, v)| (format!("{dst}{}", &k[src.len()..]), v.clone()))
            .collect();
        self.remove(src);
        self.m.extend(moved);
        self.touch(src, now);
        self.touch(dst, now);
    }

    fn rename(&mut self, src: &str, dst: &str, now: i64) -> R {
        if self.anc_file(src) {
            return Err(ACE);
        }
        if self.anc_file(dst) {
            return Err(PND);
        }
        let actual = if self.is_dir(dst) == Some(true) {
            format!("{dst}/{}", name(src))
        } else {
            dst.to_string()
        };
        if !self.m.contains_key(src) {
            return Ok(false);
        }
        if src == actual {
            return Ok(true);
        }
        if under(&actual, src)
            || self.m.contains_key(&actual)
            || !self.m.contains_key(&parent(&actual))
        {
            return Ok(false);
        }
        self.do_move(src, &actual, now);
        Ok(true)
    }

    fn rename2(&mut self, src: &str, dst: &str, overwrite: bool, now: i64) -> R {
        if self.anc_file(src) {
            return Err(ACE);
        }
        if self.anc_file(dst) {
            return Err(PND);
        }
        let Some(s) = self.m.get(src).cloned() else {
            return Err(FNF);
        };
        if src == dst {
            return Err(EXISTS);
        }
        if under(dst, src) {
            return Err(IO);
        }
        if let Some(d) = self.m.get(dst) {
            if d.dir != s.dir {
                return Err(IO);
            }
            if !overwrite {
                return Err(EXISTS);
            }
            if self.has_children(dst) {
                return Err(IO);
            }
        }
        if !self.m.contains_key(&parent(dst)) {
            return Err(FNF);
        }
        self.remove(dst);
        self.do_move(src, dst, now);
        Ok(true)
    }

    fn update(&mut self, p: &str, f: impl FnOnce(&mut M)) -> R {
        if self.anc_file(p) {
            return Err(ACE);
        }
        let Some(n) = self.m.get_mut(p) else {
            return Err(FNF);
        };
        f(n);
        Ok(true)
    }

    fn set_replication(&mut self, p: &str, r: u16) -> R {
        if self.anc_file(p) {
            return Err(ACE);
        }
        match self.m.get_mut(p) {
            Some(n) if !n.dir => {
                n.repl = r;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

fn actual_tree(ns: &Namespace) -> BTreeMap<String, M> {
    ns.walk_all()
        .into_iter()
        .map(|(p, s)| {
            let m = M {
                dir: s.kind == FileKind::Directory,
                perm: s.permission,
                owner: s.owner,
                group: s.group,
                mtime: s.mtime,
                atime: s.atime,
                uc: ns
                    .under_construction(s.inode_id)
                    .map(|u| u.client_name.clone()),
                repl: s.replication,
                len: s.length,
                nblocks: ns.file_blocks(s.inode_id).map_or(0, |(b, _, _)| b.len()),
            };
            (p, m)
        })
        .collect()
}

fn random_path(rng: &mut Rng) -> String {
    let depth = 1 + rng.below(3);
    (0..depth)
        .map(|_| ["/a", "/b", "/c"][rng.below(3) as usize])
        .collect()
}

fn outcome<T>(r: Result<T, NamespaceError>, ok: impl FnOnce(T) -> bool) -> R {
    r.map(ok).map_err(|e| e.java_class())
}

/// Runs a plan against the namespace, applying and logging its op.
fn live(ns: &mut Namespace, log: &mut Vec<EditOp>, planned: Result<Planned, NamespaceError>) -> R {
    outcome(planned, |p| match p {
        Planned::Apply(op) => {
            ns.apply(&op).expect("planned op applies");
            log.push(op);
            true
        }
        Planned::Done(b) => b,
    })
}

fn live_op(ns: &mut Namespace, log: &mut Vec<EditOp>, op: Result<EditOp, NamespaceError>) -> R {
    live(ns, log, op.map(Planned::Apply))
}

fn run_model(seed: u64, ops: usize) {
    let mut rng = Rng::new(seed);
    let mut ns = new_ns();
    let mut model = Model::new();
    let mut log = Vec::new();
    let c = su();
    let mut now = 1000;
    let mut seen: BTreeMap<R, usize> = BTreeMap::new();
    for step in 0..ops {
        now += 1;
        let p = random_path(&mut rng);
        let q = random_path(&mut rng);
        let flag = rng.below(2) == 0;
        let flag2 = rng.below(4) != 0;
        let client = ["c1", "c2"][rng.below(2) as usize];
        let (desc, want, got) = match rng.below(12) {
            0 => {
                let perm = [0o755, 0o700, 0o1777][rng.below(3) as usize];
                let got = {
                    let planned = ns.plan_mkdirs(&c, &p, perm, flag2, now);
                    live(&mut ns, &mut log, planned)
                };
                (
                    format!("mkdirs {p} {perm:o} {flag2}"),
                    model.mkdirs(&p, perm, flag2, now),
                    got,
                )
            }
            1 => {
                let got = {
                    let planned =
                        ns.plan_create(&c, &p, 0o644, client, "h", flag, flag2, 3, 1 << 20, now);
                    live_op(&mut ns, &mut log, planned)
                };
                (
                    format!("create {p} ow={flag} cp={flag2} {client}"),
                    model.create(&p, flag, flag2, client, now),
                    got,
                )
            }
            2 => {
                let blocks = [BlockInfo {
                    block_id: now as u64,
                    gen_stamp: 1,
                    num_bytes: 7,
                }];
                let got = {
                    let planned = ns.plan_close(client, &p, 0, &blocks, now);
                    live_op(&mut ns, &mut log, planned)
                };
                (
                    format!("close {p} {client}"),
                    model.close(&p, client, now),
                    got,
                )
            }
            3 => {
                let got = {
                    let planned = ns.plan_delete(&c, &p, flag, now);
                    live(&mut ns, &mut log, planned)
                };
                (
                    format!("delete {p} {flag}"),
                    model.delete(&p, flag, now),
                    got,
                )
            }
            4 => {
                let got = {
                    let planned = ns.plan_rename(&c, &p, &q, now);
                    live(&mut ns, &mut log, planned)
                };
                (format!("rename {p} {q}"), model.rename(&p, &q, now), got)
            }
            5 => {
                let got = {
                    let planned = ns.plan_rename2(&c, &p, &q, flag, now);
                    live_op(&mut ns, &mut log, planned)
                };
                (
                    format!("rename2 {p} {q} {flag}"),
                    model.rename2(&p, &q, flag, now),
                    got,
                )
            }
            6 => {
                let perm = [0o755, 0o700, 0o1777, 0o644][rng.below(4) as usize];
                let got = {
                    let planned = ns.plan_set_permission(&c, &p, perm);
                    live_op(&mut ns, &mut log, planned)
                };
                (
                    format!("chmod {p} {perm:o}"),
                    model.update(&p, |n| n.perm = perm),
                    got,
                )
            }
            7 => {
                let owner = flag.then_some("alice");
                let group = flag2.then_some("eng");
                let got = {
                    let planned = ns.plan_set_owner(&c, &p, owner, group);
                    live_op(&mut ns, &mut log, planned)
                };
                let want = model.update(&p, |n| {
                    if let Some(o) = owner {
                        n.owner = o.into();
                    }
                    if let Some(g) = group {
                        n.group = g.into();
                    }
                });
                (format!("chown {p} {owner:?} {group:?}"), want, got)
            }
            8 => {
                let mt = if flag { now } else { -1 };
                let at = if flag2 { now + 5 } else { -1 };
                let got = {
                    let planned = ns.plan_set_times(&c, &p, mt, at);
                    live_op(&mut ns, &mut log, planned)
                };
                let want = model.update(&p, |n| {
                    if mt != -1 {
                        n.mtime = mt;
                    }
                    if at != -1 {
                        n.atime = at;
                    }
                });
                (format!("touch {p} {mt} {at}"), want, got)
            }
            10 => {
                let previous = ns
                    .get_blocks(&c, &p)
                    .ok()
                    .and_then(|(_, b)| b.last().copied())
                    .map(|b| BlockInfo {
                        num_bytes: b.num_bytes + 5,
                        ..b
                    });
                let got = {
                    let planned = ns.plan_add_block(client, &p, 0, previous);
                    let planned = planned.map(|a| {
                        let op = a.op.expect("a new block");
                        assert_eq!(a.block.block.block_id, ns.last_block_id() + 1);
                        assert_eq!(a.block.block.gen_stamp, ns.gen_stamp() + 1);
                        op
                    });
                    live_op(&mut ns, &mut log, planned)
                };
                (
                    format!("addBlock {p} {client}"),
                    model.add_block(&p, client),
                    got,
                )
            }
            11 => {
                let got = {
                    let planned = ns.plan_append(&c, &p, client, "h", flag).map(|(op, _)| op);
                    live_op(&mut ns, &mut log, planned)
                };
                (
                    format!("append {p} {client} new_block={flag}"),
                    model.append(&p, client),
                    got,
                )
            }
            _ => {
                let r = 1 + rng.below(4) as u16;
                let got = {
                    let planned = ns.plan_set_replication(&c, &p, r);
                    live(&mut ns, &mut log, planned)
                };
                (format!("setrep {p} {r}"), model.set_replication(&p, r), got)
            }
        };
        assert_eq!(got, want, "seed {seed} step {step}: {desc}");
        *seen.entry(got).or_default() += 1;
        assert_eq!(actual_tree(&ns), model.m, "seed {seed} step {step}: {desc}");
        ns.check_invariants();
    }
    // The run exercised real changes and most outcomes, not only rejections.
    assert!(
        log.len() > ops / 5,
        "only {} of {ops} ops changed anything",
        log.len()
    );
    for r in [
        Ok(true),
        Ok(false),
        Err(FNF),
        Err(EXISTS),
        Err(PND),
        Err(NOT_EMPTY),
        Err(ACE),
        Err(ABCE),
        Err(LEASE),
        Err(IO),
    ] {
        assert!(
            seen.contains_key(&r),
            "seed {seed}: outcome {r:?} never happened: {seen:?}"
        );
    }
    let files = model.m.values().filter(|n| !n.dir).count() as u64;
    assert_eq!(
        ns.stats(),
        NamespaceStats {
            files,
            dirs: model.m.len() as u64 - files
        }
    );

    // Replay equivalence: the log rebuilds the identical namespace.
    let mut replay = new_ns();
    for op in &log {
        // Ops travel through the journal encoded.
        let bytes = prost::Message::encode_to_vec(op);
        let decoded: EditOp = prost::Message::decode(&bytes[..]).unwrap();
        replay.apply(&decoded).unwrap();
    }
    let image = ns.save_image();
    assert_eq!(replay.save_image(), image, "seed {seed}: replay differs");
    assert_eq!(replay.last_inode_id(), ns.last_inode_id());
    assert_eq!(replay.last_block_id(), ns.last_block_id());
    assert_eq!(replay.gen_stamp(), ns.gen_stamp());
    let allocated = ns.last_block_id() - LAST_RESERVED_BLOCK_ID;
    assert!(
        allocated >= 3,
        "seed {seed}: only {allocated} blocks allocated"
    );
    // Image round trip.
    let loaded = Namespace::load_image(NamespaceConfig::default(), &image).unwrap();
    loaded.check_invariants();
    assert_eq!(loaded.save_image(), image);
    assert_eq!(
        (loaded.last_block_id(), loaded.gen_stamp()),
        (ns.last_block_id(), ns.gen_stamp())
    );
    assert_eq!(actual_tree(&loaded), model.m);
}

#[test]
fn random_ops_agree_with_model_and_replay() {
    for seed in 1..=6u64 {
        run_model(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1, 2500);
    }
}
