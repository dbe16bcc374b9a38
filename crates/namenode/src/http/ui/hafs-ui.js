// The hafs NameNode web UI: the HA nameservice at a glance, from every NameNode's /jmx
// (CORS allows reading the peers'), refreshed every two seconds, and a file browser over
// this NameNode's WebHDFS. No framework and nothing from a CDN: the binary serves this
// file itself.
"use strict";

const REFRESH_MS = 2000;
// The browser waits at most this long for a NameNode; a killed one must not stall the
// page behind it.
const FETCH_TIMEOUT_MS = 1500;

const state = { browsePath: "/", refreshes: 0, self: null, browsed: false };

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

function ago(ms) {
  if (!ms) return "never";
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 120) return s + " s ago";
  if (s < 7200) return Math.round(s / 60) + " min ago";
  return Math.round(s / 3600) + " h ago";
}

function bytes(n) {
  if (n === undefined || n === null) return "";
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0;
  let v = Number(n);
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i === 0 ? v : v.toFixed(1)) + " " + units[i];
}

async function getJson(url) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), FETCH_TIMEOUT_MS);
  try {
    const r = await fetch(url, { signal: ctl.signal, cache: "no-store" });
    if (!r.ok) throw new Error(url + ": HTTP " + r.status);
    return await r.json();
  } finally {
    clearTimeout(timer);
  }
}

// Every bean of a NameNode by name, or null when it does not answer.
async function beansOf(base) {
  try {
    const j = await getJson(base + "/jmx");
    const m = {};
    for (const b of j.beans) m[b.name] = b;
    return m;
  } catch (e) {
    return null;
  }
}

const B = {
  status: "Hadoop:service=NameNode,name=NameNodeStatus",
  fs: "Hadoop:service=NameNode,name=FSNamesystem",
  fsState: "Hadoop:service=NameNode,name=FSNamesystemState",
  info: "Hadoop:service=NameNode,name=NameNodeInfo",
  ha: "hafs:service=NameNode,name=HAStatus",
};

async function refresh() {
  const self = await beansOf("");
  const err = document.getElementById("fetch-error");
  if (!self || !self[B.ha]) {
    err.hidden = false;
    err.textContent = "This NameNode does not answer; retrying.";
    return;
  }
  err.hidden = true;
  state.self = self;
  const ha = self[B.ha];
  document.getElementById("nameservice").textContent = ha.Nameservice || "(no HA)";
  document.getElementById("served-by").textContent =
    "Served by " + (ha.NameNodeId || location.host) + " (" + ha.State + ")";

  const nodes = [{ id: ha.NameNodeId || location.host, http: location.host, base: "", beans: self }];
  const peers = ha.Peers || [];
  const peerBeans = await Promise.all(peers.map((p) => beansOf("http://" + p.http)));
  peers.forEach((p, i) => nodes.push({ id: p.id, http: p.http, base: "http://" + p.http, beans: peerBeans[i] }));
  nodes.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  const active = nodes.find((n) => n.beans && n.beans[B.status] && n.beans[B.status].State === "active");
  renderNameNodes(nodes, active);
  renderJournalNodes(active);
  renderFailovers(nodes);
  const source = active || nodes.find((n) => n.base === "");
  renderHealth(source);
  renderDataNodes(source);
  // The file browser works on the Active (a Standby's WebHDFS answers StandbyException).
  if (ha.State === "active" && !state.browsed) {
    state.browsed = true;
    browse(state.browsePath);
  } else if (ha.State !== "active" && !state.browsed) {
    showBrowseError("This NameNode is " + ha.State + "; browse the file system on the Active" +
      (active ? " (" + active.http + ")" : "") + ".");
  }
  state.refreshes++;
  document.body.dataset.refreshes = String(state.refreshes);
  document.body.dataset.loaded = "1";
}

function renderNameNodes(nodes, active) {
  const activeTxid = active ? active.beans[B.fs].LastWrittenTransactionId : null;
  const rows = nodes.map((n) => {
    if (!n.beans || !n.beans[B.status]) {
      return el("tr", { "data-nn": n.id },
        el("td", {}, n.id), el("td", {}, n.http),
        el("td", { class: "state unreachable" }, "unreachable"),
        el("td", {}, ""), el("td", {}, ""), el("td", {}, ""), el("td", {}, ""), el("td", {}, ""));
    }
    const st = n.beans[B.status];
    const h = n.beans[B.ha];
    const fs = n.beans[B.fs];
    const applied = st.State === "active" ? fs.LastWrittenTransactionId : h.LastAppliedTxId;
    const behind = activeTxid === null ? "" : Math.max(0, activeTxid - applied) + " txns";
    return el("tr", { "data-nn": n.id },
      el("td", {}, n.id),
      el("td", {}, n.http),
      el("td", { class: "state " + st.State }, st.State),
      el("td", {}, ago(st.LastHATransitionTime)),
      el("td", {}, applied),
      el("td", {}, st.State === "active" ? "" : behind),
      el("td", {}, st.State === "standby" ? h.TailingLagMillis + " ms" : ""),
      el("td", {}, ago(fs.LastCheckpointTime)));
  });
  fill(document.querySelector("#namenodes tbody"), rows);
  const anyHa = nodes.find((n) => n.beans && n.beans[B.ha]);
  const backend = anyHa ? anyHa.beans[B.ha].ElectionBackend : "?";
  document.getElementById("election").textContent =
    "Election: " + backend + (active ? "; held by " + active.id + " (Active)" : "; no Active NameNode");
}

function renderJournalNodes(active) {
  const tbody = document.querySelector("#journalnodes tbody");
  const jns = active ? active.beans[B.ha].JournalNodes || [] : [];
  if (jns.length === 0) {
    fill(tbody, [el("tr", {}, el("td", { colSpan: 5 }, active ? "no JournalNodes (a local edit log)" : "no Active NameNode to ask"))]);
    return;
  }
  fill(tbody, jns.map((j) => {
    let status = "in sync";
    let cls = "status";
    if (j.outOfSync) { status = "failing: skipped until the next segment"; cls += " bad"; }
    else if (j.lagTxns > 0) { status = "behind"; cls += " bad"; }
    return el("tr", { "data-jn": j.addr },
      el("td", {}, j.addr), el("td", {}, j.ackedTxId), el("td", {}, j.lagTxns + " txns"),
      el("td", {}, bytes(j.queuedBytes)), el("td", { class: cls }, status));
  }));
}

function renderFailovers(nodes) {
  const rows = [];
  for (const n of nodes) {
    if (!n.beans || !n.beans[B.ha]) continue;
    for (const t of n.beans[B.ha].FailoverHistory || []) rows.push({ nn: n.id, ...t });
  }
  rows.sort((a, b) => b.time - a.time);
  fill(document.querySelector("#failovers tbody"), rows.map((t) =>
    el("tr", { class: "row", "data-to": t.to, "data-nn": t.nn },
      el("td", {}, new Date(t.time).toISOString()), el("td", {}, t.nn), el("td", {}, t.from),
      el("td", {}, t.to), el("td", {}, t.why), el("td", {}, t.tookMillis + " ms"))));
}

function renderHealth(n) {
  const fs = n.beans[B.fs];
  const fss = n.beans[B.fsState];
  const info = n.beans[B.info];
  const st = n.beans[B.status];
  const row = (k, v, bad) => el("tr", { "data-k": k }, el("th", {}, k), el("td", { class: bad ? "bad" : "" }, v));
  fill(document.querySelector("#health tbody"), [
    row("Missing blocks", fs.MissingBlocks, fs.MissingBlocks > 0),
    row("Under-replicated blocks", fs.UnderReplicatedBlocks, false),
    row("Corrupt blocks", fs.CorruptBlocks, fs.CorruptBlocks > 0),
    row("Blocks", fs.BlocksTotal, false),
    row("Files and directories", fs.FilesTotal, false),
    row("Safe mode", info.Safemode ? info.Safemode : "off", !!info.Safemode),
    row("File system state", fss.FSState, fss.FSState !== "Operational"),
    row("Startup", st.State === "initializing" ? "in progress" : "complete", st.State === "initializing"),
  ]);
}

function renderDataNodes(n) {
  const info = n.beans[B.info];
  const live = JSON.parse(info.LiveNodes || "{}");
  const dead = JSON.parse(info.DeadNodes || "{}");
  const rows = [];
  for (const [name, d] of Object.entries(live)) {
    rows.push(el("tr", { "data-dn": name },
      el("td", {}, name), el("td", { class: "state live" }, "live"), el("td", {}, d.lastContact + " s ago"),
      el("td", {}, bytes(d.capacity)), el("td", {}, bytes(d.usedSpace)), el("td", {}, bytes(d.remaining)),
      el("td", {}, d.numBlocks)));
  }
  for (const [name, d] of Object.entries(dead)) {
    rows.push(el("tr", { "data-dn": name },
      el("td", {}, name), el("td", { class: "state dead" }, "dead"), el("td", {}, d.lastContact + " s ago"),
      el("td", {}, ""), el("td", {}, ""), el("td", {}, ""), el("td", {}, "")));
  }
  fill(document.querySelector("#datanodes tbody"), rows);
  document.getElementById("datanode-summary").textContent =
    Object.keys(live).length + " live, " + Object.keys(dead).length + " dead";
}

// ---------------------------------------------------------------- file browser

function joinPath(dir, name) {
  return (dir.endsWith("/") ? dir : dir + "/") + name;
}

function webhdfs(path, op, extra) {
  const enc = path.split("/").map(encodeURIComponent).join("/");
  const user = document.getElementById("upload-user").value.trim();
  let q = "op=" + op + (extra || "");
  if (user) q += "&user.name=" + encodeURIComponent(user);
  return "/webhdfs/v1" + enc + "?" + q;
}

function showBrowseError(msg) {
  const e = document.getElementById("browse-error");
  e.hidden = !msg;
  e.textContent = msg || "";
}

async function remoteError(r) {
  try {
    const j = await r.json();
    if (j.RemoteException) return j.RemoteException.exception + ": " + j.RemoteException.message;
  } catch (e) { /* not JSON */ }
  return "HTTP " + r.status;
}

async function browse(path) {
  state.browsePath = path;
  document.getElementById("browse-path").value = path;
  const r = await fetch(webhdfs(path, "LISTSTATUS"), { cache: "no-store" });
  const tbody = document.querySelector("#listing tbody");
  if (!r.ok) {
    fill(tbody, []);
    showBrowseError(await remoteError(r));
    return;
  }
  showBrowseError("");
  const list = (await r.json()).FileStatuses.FileStatus;
  const rows = [];
  if (path !== "/") {
    const up = path.replace(/\/[^/]*\/?$/, "") || "/";
    rows.push(el("tr", {}, el("td", {}, el("a", { href: "#", onclick: (e) => { e.preventDefault(); browse(up); } }, ".."))));
  }
  for (const f of list) {
    const full = joinPath(path, f.pathSuffix);
    const name = f.type === "DIRECTORY"
      ? el("a", { href: "#", onclick: (e) => { e.preventDefault(); browse(full); } }, f.pathSuffix + "/")
      : el("a", { href: webhdfs(full, "OPEN"), download: f.pathSuffix }, f.pathSuffix);
    rows.push(el("tr", { "data-name": f.pathSuffix },
      el("td", {}, name), el("td", {}, f.type === "DIRECTORY" ? "dir" : "file"),
      el("td", {}, f.type === "DIRECTORY" ? "" : bytes(f.length)), el("td", {}, f.replication || ""),
      el("td", {}, f.owner), el("td", {}, f.group), el("td", {}, f.permission),
      el("td", {}, new Date(f.modificationTime).toISOString())));
  }
  fill(tbody, rows);
  document.body.dataset.browsed = path;
}

async function upload(file) {
  const status = document.getElementById("upload-status");
  status.textContent = "uploading " + file.name + "…";
  const path = joinPath(state.browsePath, file.name);
  // WebHDFS's two steps: the NameNode names a DataNode, the bytes go there.
  const r = await fetch(webhdfs(path, "CREATE", "&overwrite=false&noredirect=true"), { method: "PUT" });
  if (!r.ok) { status.textContent = "failed: " + await remoteError(r); return; }
  const loc = (await r.json()).Location;
  const w = await fetch(loc, { method: "PUT", body: file });
  if (w.status !== 201) { status.textContent = "failed: " + await remoteError(w); return; }
  status.textContent = "uploaded " + path;
  document.body.dataset.uploaded = path;
  await browse(state.browsePath);
}

function start() {
  const form = document.getElementById("upload-form");
  form.prepend(el("input", { id: "upload-user", placeholder: "as user (user.name)", "data-role": "user" }));
  document.getElementById("browse-form").addEventListener("submit", (e) => {
    e.preventDefault();
    browse(document.getElementById("browse-path").value || "/");
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = document.getElementById("upload-file").files[0];
    if (f) upload(f);
  });
  refresh();
  setInterval(refresh, REFRESH_MS);
}

start();
