// Cairn's web page: the node's own, served on the shell's origin, so it
// calls the API (POST, same origin) like any client. It polls `status`
// every two seconds and the pins every five. Whatever peers sent (agent
// versions, protocols, addresses) is put on the page as text, never as
// markup.
'use strict';

const $ = (id) => document.getElementById(id);
const STATUS_EVERY = 2000;
const PINS_EVERY = 5000;
const CHART_SPAN = 5 * 60 * 1000; // the bandwidth chart's window
const ROW = 26; // a peer row's height in pixels, as style.css sets it

let token = sessionStorage.getItem('cairn-token') || '';
let status = null;
let peers = []; // status.PeerList, filtered
const samples = []; // {t, rin, rout}

// ---- the API ----

function apiURL(cmd, params) {
  const q = params ? '?' + new URLSearchParams(params) : '';
  return '/api/v0/' + cmd + q;
}

function authHeaders() {
  return token ? { Authorization: 'Bearer ' + token } : {};
}

async function errorText(r) {
  try {
    const e = await r.json();
    return e.Message || r.statusText;
  } catch {
    return r.status + ' ' + r.statusText;
  }
}

// call POSTs a command and returns the response, or throws its message.
async function call(cmd, params, signal) {
  const r = await fetch(apiURL(cmd, params), { method: 'POST', headers: authHeaders(), signal });
  if (r.status === 401) {
    askToken();
    throw new Error('the node wants its access token (shell.access_token)');
  }
  if (!r.ok) throw new Error(await errorText(r));
  return r;
}

async function callJSON(cmd, params) {
  return (await call(cmd, params)).json();
}

// askToken asks once per page load (a refusal is not asked again every
// poll); reloading the page asks again.
let asked = false;
function askToken() {
  if (asked) return;
  asked = true;
  const t = window.prompt('This node needs its access token (shell.access_token in config.yaml):');
  if (t) {
    token = t.trim();
    sessionStorage.setItem('cairn-token', token);
    asked = false; // a wrong token may be corrected
  }
}

function showError(e) {
  const el = $('error');
  el.hidden = !e;
  el.textContent = e ? String(e.message || e) : '';
}

// ---- formatting ----

function fmtBytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return (i ? n.toFixed(1) : Math.round(n)) + ' ' + units[i];
}

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

// ---- status ----

async function pollStatus() {
  try {
    status = await callJSON('status', { peers: 'true' });
    showStatus(status);
    showError(null);
  } catch (e) {
    showError(e);
  }
  setTimeout(pollStatus, STATUS_EVERY);
}

function showStatus(st) {
  $('peer-id').textContent = st.ID;
  $('agent').textContent = st.AgentVersion;
  $('reach').textContent = st.Reachability || 'unknown';
  showAddrs(st.Addresses || []);
  $('peer-count').textContent = st.Peers.Connected;
  $('peer-dirs').textContent = st.Peers.Inbound + ' in · ' + st.Peers.Outbound + ' out';
  showStore(st.Store);
  showBandwidth(st.Bandwidth);
  showTransfers(st.Transfers || []);
  drawRouting(st.Routing || []);
  setPeers(st.PeerList || []);
}

function showAddrs(addrs) {
  const sel = $('bootstrap-addr');
  const now = Array.from(sel.options, (o) => o.value);
  if (now.join() === addrs.join()) return;
  const chosen = sel.value;
  sel.replaceChildren(...addrs.map((a) => el('option', a)));
  // Another machine cannot reach a loopback address: offer another first.
  const outside = addrs.find((a) => !/\/ip4\/127\.|\/ip6\/::1\//.test(a));
  sel.value = addrs.includes(chosen) ? chosen : outside || addrs[0] || '';
}

function showStore(s) {
  $('store-used').textContent = fmtBytes(s.RepoSize);
  const bar = $('store-bar');
  if (s.StorageMax > 0) {
    const pct = Math.min(100, (100 * s.RepoSize) / s.StorageMax);
    bar.style.width = pct.toFixed(1) + '%';
    bar.parentElement.classList.toggle('full', pct > 90);
    $('store-detail').textContent = pct.toFixed(1) + '% of ' + fmtBytes(s.StorageMax) + ' · ' + s.NumObjects + ' blocks';
  } else {
    bar.style.width = '0';
    $('store-detail').textContent = s.NumObjects + ' blocks · no storage_max';
  }
}

function showBandwidth(bw) {
  if (!bw) return;
  $('rate-in').textContent = fmtBytes(bw.RateIn) + '/s';
  $('rate-out').textContent = fmtBytes(bw.RateOut) + '/s';
  $('bw-total').textContent = fmtBytes(bw.TotalIn) + ' in, ' + fmtBytes(bw.TotalOut) + ' out in all';
  const t = Date.now();
  samples.push({ t, rin: bw.RateIn, rout: bw.RateOut });
  while (samples.length && samples[0].t < t - CHART_SPAN) samples.shift();
  drawBandwidth();
}

function drawBandwidth() {
  const c = $('bw-chart');
  const g = c.getContext('2d');
  const w = c.width, h = c.height, pad = 70;
  g.clearRect(0, 0, w, h);
  const top = Math.max(1024, ...samples.map((s) => Math.max(s.rin, s.rout)));
  g.strokeStyle = '#d9dee3';
  g.fillStyle = '#66707a';
  g.font = '11px system-ui';
  for (let i = 0; i <= 4; i++) {
    const y = 8 + ((h - 24) * i) / 4;
    g.beginPath();
    g.moveTo(pad, y);
    g.lineTo(w, y);
    g.stroke();
    g.fillText(fmtBytes((top * (4 - i)) / 4) + '/s', 0, y + 4);
  }
  g.fillText('-5 min', pad, h - 2);
  g.fillText('now', w - 24, h - 2);
  const now = Date.now();
  const x = (t) => pad + ((w - pad) * (t - (now - CHART_SPAN))) / CHART_SPAN;
  const y = (v) => 8 + (h - 24) * (1 - v / top);
  for (const [key, color] of [['rin', '#2a7de1'], ['rout', '#e07a2a']]) {
    g.strokeStyle = color;
    g.lineWidth = 2;
    g.beginPath();
    samples.forEach((s, i) => (i ? g.lineTo(x(s.t), y(s[key])) : g.moveTo(x(s.t), y(s[key]))));
    g.stroke();
  }
  g.lineWidth = 1;
}

// drawRouting draws each table's buckets as bars of their peer count,
// against Kademlia's bucket size of 20.
function drawRouting(tables) {
  const c = $('rt-chart');
  const g = c.getContext('2d');
  const w = c.width, h = c.height, k = 20;
  g.clearRect(0, 0, w, h);
  const n = Math.max(1, ...tables.map((t) => t.Buckets.length));
  const colors = { wan: '#2a7de1', lan: '#e07a2a' };
  const slot = Math.min(48, (w - 20) / n);
  const bar = Math.max(2, Math.min(20, slot / Math.max(1, tables.length) - 2));
  g.font = '10px system-ui';
  tables.forEach((t, ti) => {
    g.fillStyle = colors[t.Name] || '#888';
    t.Buckets.forEach((count, i) => {
      const bh = ((h - 30) * Math.min(count, k)) / k;
      g.fillRect(20 + i * slot + ti * (bar + 2), h - 16 - bh, bar, bh);
    });
  });
  g.fillStyle = '#66707a';
  for (let i = 0; i < n; i += Math.ceil(n / 12)) g.fillText(String(i), 20 + i * slot, h - 4);
  g.fillText(String(k), 0, 14);
  tables.forEach((t, ti) => {
    g.fillStyle = colors[t.Name] || '#888';
    g.fillText('■ ' + t.Name, w - 90 + ti * 45, 14);
  });
  $('rt-detail').textContent = tables.map((t) => t.Name + ': ' + t.Peers + ' peers in ' + t.Buckets.length + ' buckets').join(' · ') +
    ' (bucket i: peers sharing i leading bits with this node)';
}

function showTransfers(ts) {
  $('transfer-count').textContent = ts.length ? '(' + ts.length + ')' : '';
  const rows = ts.map((t) => {
    const tr = el('tr');
    const cid = el('td');
    cid.append(el('code', t.Cid));
    const prog = el('td');
    if (t.Size > 0) {
      const b = el('div', undefined, 'bar');
      const fill = el('div');
      fill.style.width = Math.min(100, (100 * t.Bytes) / t.Size).toFixed(1) + '%';
      b.append(fill);
      prog.append(b, el('span', fmtBytes(t.Bytes) + ' of ' + fmtBytes(t.Size), 'muted'));
    } else {
      prog.textContent = fmtBytes(t.Bytes);
    }
    tr.append(cid, el('td', t.Kind), prog, el('td', t.Fetch ? 'network' : 'local'), el('td', t.Seconds.toFixed(0) + ' s'));
    return tr;
  });
  $('transfers').replaceChildren(...rows);
}

// ---- pins ----

async function pollPins() {
  await loadPins();
  setTimeout(pollPins, PINS_EVERY);
}

async function loadPins() {
  try {
    const out = await callJSON('pin/ls', { type: 'recursive' });
    const keys = Object.entries(out.Keys || {});
    $('pin-count').textContent = '(' + keys.length + ')';
    const rows = keys.slice(0, 500).map(([c, v]) => {
      const tr = el('tr');
      const td = el('td');
      td.append(el('code', c));
      tr.append(td, el('td', v.Type), el('td', v.Replication || '—', 'muted'));
      return tr;
    });
    $('pins').replaceChildren(...rows);
  } catch (e) {
    showError(e);
  }
}

// ---- peers: a virtual list, so that hundreds of peers cost a screenful
// of rows ----

function setPeers(list) {
  const f = $('peer-filter').value.trim().toLowerCase();
  peers = f ? list.filter((p) => (p.ID + ' ' + p.Addr + ' ' + p.Protocols.join(' ') + ' ' + (p.AgentVersion || '')).toLowerCase().includes(f)) : list;
  $('peer-shown').textContent = f ? '(' + peers.length + ' of ' + list.length + ')' : '(' + list.length + ')';
  renderPeers();
}

function renderPeers() {
  const box = $('peers');
  $('peers-spacer').style.height = peers.length * ROW + 'px';
  const first = Math.max(0, Math.floor(box.scrollTop / ROW) - 2);
  const last = Math.min(peers.length, first + Math.ceil(box.clientHeight / ROW) + 4);
  const rows = [];
  for (let i = first; i < last; i++) rows.push(peerRow(peers[i], i));
  box.replaceChildren($('peers-spacer'), ...rows);
}

function peerRow(p, i) {
  const r = el('div', undefined, 'peer-row');
  r.style.top = i * ROW + 'px';
  r.dataset.peer = p.ID;
  const lat = p.LatencyMs > 0 ? p.LatencyMs.toFixed(1) + ' ms' : 'n/a';
  const protos = p.Protocols.length ? p.Protocols.join(' ') : '';
  r.append(el('span', p.ID, 'mono'), el('span', p.Addr, 'mono'), el('span', lat), el('span', p.Direction), el('span', protos, 'muted'));
  r.title = (p.AgentVersion ? p.AgentVersion + '\n' : '') + p.Protocols.join('\n');
  return r;
}

// ---- add ----

function listItem(list, name) {
  const li = el('li');
  li.append(el('span', name), el('span', 'starting', 'state'));
  const b = el('div', undefined, 'bar');
  b.append(el('div'));
  li.append(b);
  $(list).prepend(li);
  return li;
}

function setProgress(li, text, fraction, cls) {
  const s = li.querySelector('.state');
  s.textContent = text;
  s.className = 'state' + (cls ? ' ' + cls : '');
  if (fraction !== undefined) li.querySelector('.bar > div').style.width = (100 * fraction).toFixed(1) + '%';
}

function showCID(li, c) {
  const line = el('div');
  line.append(el('code', c, 'cid'), ' ');
  const a = el('a', 'open through the gateway');
  a.href = gatewayLink(c);
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  a.className = 'gw-link';
  line.append(a);
  li.append(line);
}

// addFile uploads one file with XHR, whose upload events give progress;
// add's last line is the file's entry.
function addFile(file) {
  const li = listItem('added', file.name);
  const x = new XMLHttpRequest();
  x.open('POST', apiURL('add', { 'cid-version': 1, pin: 'true' }));
  for (const [k, v] of Object.entries(authHeaders())) x.setRequestHeader(k, v);
  x.upload.onprogress = (e) => {
    if (e.lengthComputable) setProgress(li, Math.round((100 * e.loaded) / e.total) + '%', e.loaded / e.total);
  };
  x.onload = () => {
    const lines = x.responseText.trim().split('\n').filter(Boolean);
    let last = {};
    try {
      last = JSON.parse(lines[lines.length - 1] || '{}');
    } catch {}
    if (x.status !== 200 || !last.Hash) {
      if (x.status === 401) askToken();
      setProgress(li, 'failed: ' + (last.Message || x.getResponseHeader('X-Stream-Error') || x.status), undefined, 'failed');
      return;
    }
    setProgress(li, 'added', 1, 'complete');
    showCID(li, last.Hash);
    loadPins();
  };
  x.onerror = () => setProgress(li, 'failed: the upload did not reach the node', undefined, 'failed');
  x.send(formOf(file));
}

function formOf(file) {
  const fd = new FormData();
  fd.append('file', file, file.name);
  return fd;
}

function setupDrop() {
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    Array.from(e.dataTransfer.files).forEach(addFile);
  });
  $('add-input').addEventListener('change', (e) => {
    Array.from(e.target.files).forEach(addFile);
    e.target.value = '';
  });
}

// ---- fetch ----

// fetchCID has the node fetch c by reading it through cat (a file, whose
// size X-Content-Length gives) or dag/export (anything else), counting
// the bytes as they come; the data itself is dropped, the node keeps it.
async function fetchCID(c) {
  const li = listItem('fetches', c);
  try {
    let r = await fetch(apiURL('cat', { arg: c }), { method: 'POST', headers: authHeaders() });
    if (r.status === 400) {
      const msg = await errorText(r);
      if (!/directory/.test(msg)) throw new Error(msg);
      r = await call('dag/export', { arg: c });
    } else if (!r.ok) {
      if (r.status === 401) askToken();
      throw new Error(await errorText(r));
    }
    const total = Number(r.headers.get('X-Content-Length')) || 0;
    const got = await drain(r, (n) => setProgress(li, total ? Math.round((100 * n) / total) + '%' : fmtBytes(n), total ? n / total : undefined));
    if (total && got < total) throw new Error('the stream ended after ' + got + ' of ' + total + ' bytes');
    setProgress(li, 'complete', 1, 'complete');
    showCID(li, c);
  } catch (e) {
    setProgress(li, 'failed: ' + e.message, undefined, 'failed');
  }
}

async function drain(r, progress) {
  const reader = r.body.getReader();
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return n;
    n += value.length;
    progress(n);
  }
}

// ---- the gateway's link: every root on its own origin,
// http://<cid>.ipfs.localhost:<port>/, which takes a CIDv1 in base32 ----

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const B32 = 'abcdefghijklmnopqrstuvwxyz234567';

function base58Decode(s) {
  const bytes = [0];
  for (const ch of s) {
    let carry = B58.indexOf(ch);
    if (carry < 0) throw new Error('not base58');
    for (let j = 0; j < bytes.length; j++) {
      carry += bytes[j] * 58;
      bytes[j] = carry & 255;
      carry >>= 8;
    }
    while (carry) {
      bytes.push(carry & 255);
      carry >>= 8;
    }
  }
  for (const ch of s) {
    if (ch !== '1') break;
    bytes.push(0);
  }
  return bytes.reverse();
}

function base32(bytes) {
  let out = '', bits = 0, val = 0;
  for (const b of bytes) {
    val = ((val << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += B32[(val >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(val << (5 - bits)) & 31];
  return out;
}

// subdomainCID is c as a base32 CIDv1, or null when the page cannot tell.
function subdomainCID(c) {
  if (/^b[a-z2-7]+$/.test(c)) return c;
  if (/^Qm[1-9A-HJ-NP-Za-km-z]{44}$/.test(c)) return 'b' + base32([1, 0x70, ...base58Decode(c)]);
  return null;
}

function gatewayLink(c) {
  const gw = status && status.GatewayURL;
  if (!gw) return '#';
  const port = new URL(gw).port;
  const sub = subdomainCID(c);
  // The gateway redirects /ipfs/<cid> on a loopback address to the
  // subdomain form for the CIDs the page cannot convert.
  return sub ? 'http://' + sub + '.ipfs.localhost:' + port + '/' : gw + '/ipfs/' + encodeURIComponent(c) + '/';
}

// ---- wiring ----

function setup() {
  setupDrop();
  $('fetch-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const c = $('fetch-cid').value.trim();
    if (c) fetchCID(c);
  });
  $('copy-addr').addEventListener('click', async () => {
    const a = $('bootstrap-addr').value;
    try {
      await navigator.clipboard.writeText(a);
      $('copied').textContent = 'copied';
    } catch {
      $('copied').textContent = 'select and copy: ' + a;
    }
  });
  $('peers').addEventListener('scroll', renderPeers);
  $('peer-filter').addEventListener('input', () => status && setPeers(status.PeerList || []));
  pollStatus();
  pollPins();
}

setup();
