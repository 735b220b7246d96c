// stompbox web console: polls the JSON API of this listener every 2 s (docs/console.md).
// Every string that came from a peer (user names, addresses, destinations) reaches the DOM
// through textContent only; the page has no innerHTML and no inline script (CSP: self only).
'use strict';

const POLL_MS = 2000;
const HISTORY = 300;  // points kept for the chart: 10 minutes at 2 s

const $ = (id) => document.getElementById(id);
let currentTab = 'overview';
let lastOverview = null;
let lastDestinations = new Map();  // name -> {time, in, out}
const series = [[], [], []];       // time (s), in/s, out/s
let chart = null;

function text(el, value) { el.textContent = value === undefined || value === null ? '' : String(value); }

function cell(row, value) {
  const td = document.createElement('td');
  text(td, value);
  row.appendChild(td);
  return td;
}

function fmtBytes(n) {
  if (n < 1024) return n + ' B';
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = -1;
  do { v /= 1024; u++; } while (v >= 1024 && u < units.length - 1);
  return v.toFixed(1) + ' ' + units[u];
}

function fmtAge(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
  if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
}

function fmtRate(v) { return v >= 100 ? Math.round(v).toString() : v.toFixed(1); }

function notice(message, ok) {
  const el = $('notice');
  text(el, message);
  el.className = ok ? 'ok' : 'bad';
}

async function getJson(path) {
  const r = await fetch(path, { cache: 'no-store' });
  const body = await r.json().catch(() => ({}));
  return { status: r.status, body };
}

function adminHeaders() {
  const login = $('admin-login').value;
  const secret = $('admin-passcode').value;
  const headers = {};
  if (login) {
    // btoa needs Latin-1: encode UTF-8 first.
    const bytes = new TextEncoder().encode(login + ':' + secret);
    headers.Authorization = 'Basic ' + btoa(String.fromCharCode(...bytes));
  } else if (secret) {
    headers.Authorization = 'Bearer ' + secret;
  }
  return headers;
}

async function adminPost(path, what) {
  try {
    const r = await fetch(path, { method: 'POST', headers: adminHeaders() });
    const body = await r.json().catch(() => ({}));
    if (r.ok) notice(what + ': done' + (body.removed !== undefined ? ' (' + body.removed + ' removed)' : ''), true);
    else notice(what + ': ' + r.status + ' ' + (body.error || ''), false);
    refresh();
  } catch (e) {
    notice(what + ': ' + e, false);
  }
}

function actionButton(label, onClick) {
  const b = document.createElement('button');
  text(b, label);
  b.addEventListener('click', onClick);
  return b;
}

function renderOverview(o) {
  text($('version'), 'v' + o.version);
  const state = $('state');
  text(state, o.ready ? 'ready' : 'not ready');
  state.className = 'badge ' + (o.ready ? 'ok' : 'bad');
  text($('ov-connections'), o.connections.open);
  text($('ov-by-transport'), Object.entries(o.connections.by_transport)
    .filter(([, n]) => n > 0).map(([t, n]) => t + ' ' + n).join(' · '));
  text($('ov-sessions'), o.sessions);
  text($('ov-subscriptions'), o.subscriptions);
  text($('ov-published'), o.messages.published + ' published');
  text($('ov-delivered'), o.messages.delivered + ' delivered');
  text($('ov-commit'), (o.store.last_commit_latency_us / 1000).toFixed(2) + ' ms');
  text($('ov-store'), (o.store.writable ? 'writable' : 'NOT writable') + ' · ' + o.store.appended + ' stored');
  text($('ov-held'), fmtBytes(o.held_bytes.used));
  text($('ov-held-limit'), o.held_bytes.limit ? 'of ' + fmtBytes(o.held_bytes.limit) : 'no limit');
  text($('ov-uptime'), fmtAge(o.uptime_ms));
  text($('ov-ready'), o.ready ? 'ready' : 'not ready');
  if (lastOverview && o.time_ms > lastOverview.time_ms) {
    const dt = (o.time_ms - lastOverview.time_ms) / 1000;
    const inRate = Math.max(0, (o.messages.published - lastOverview.messages.published) / dt);
    const outRate = Math.max(0, (o.messages.delivered - lastOverview.messages.delivered) / dt);
    text($('ov-in-rate'), fmtRate(inRate));
    text($('ov-out-rate'), fmtRate(outRate));
    series[0].push(o.time_ms / 1000);
    series[1].push(inRate);
    series[2].push(outRate);
    if (series[0].length > HISTORY) series.forEach((s) => s.shift());
    drawChart();
  }
  lastOverview = o;
  renderCuts(o.cuts);
  renderCluster(o);
}

function drawChart() {
  if (typeof uPlot === 'undefined') return;
  const el = $('chart');
  const width = Math.max(300, el.clientWidth - 16);
  if (!chart) {
    chart = new uPlot({
      width, height: 260,
      series: [{}, { label: 'in /s', stroke: '#2463eb', width: 2 }, { label: 'out /s', stroke: '#2e7d32', width: 2 }],
      axes: [{}, { size: 60 }],
    }, series, el);
  } else {
    if (chart.width !== width) chart.setSize({ width, height: 260 });
    chart.setData(series);
  }
}

function renderConnections(r) {
  const rows = $('conn-rows');
  rows.replaceChildren();
  text($('conn-total'), r.total + ' open' + (r.total > r.connections.length ? ', the oldest ' + r.connections.length + ' shown' : ''));
  for (const c of r.connections) {
    const tr = document.createElement('tr');
    tr.dataset.id = c.id;
    cell(tr, c.id);
    cell(tr, c.user || (c.connected ? '(anonymous)' : '(not connected)'));
    cell(tr, c.remote);
    cell(tr, c.transport);
    cell(tr, fmtAge(c.age_ms));
    cell(tr, c.subscriptions);
    cell(tr, c.pending_bytes);
    cell(tr, c.heartbeat.send_ms + ' / ' + c.heartbeat.expect_ms + ' ms');
    cell(tr, '').appendChild(actionButton('Close', () =>
      adminPost('/api/v1/connections/' + encodeURIComponent(c.id) + '/close', 'close connection ' + c.id)));
    rows.appendChild(tr);
  }
}

function renderDestinations(r, now) {
  const rows = $('dest-rows');
  rows.replaceChildren();
  text($('dest-total'), r.total + ' destinations');
  const seen = new Map();
  for (const d of r.destinations) {
    const key = d.kind + ' ' + d.name;
    const before = lastDestinations.get(key);
    const dt = before ? (now - before.time) / 1000 : 0;
    const tr = document.createElement('tr');
    cell(tr, d.name);
    cell(tr, d.kind);
    cell(tr, d.subscribers);
    cell(tr, dt > 0 ? fmtRate(Math.max(0, (d.messages_in - before.in) / dt)) : '–');
    cell(tr, dt > 0 ? fmtRate(Math.max(0, (d.messages_out - before.out) / dt)) : '–');
    cell(tr, d.messages_in);
    cell(tr, d.waiting === undefined ? '' : d.waiting);
    rows.appendChild(tr);
    seen.set(key, { time: now, in: d.messages_in, out: d.messages_out });
  }
  lastDestinations = seen;
}

function renderInboxes(r) {
  const rows = $('inbox-rows');
  rows.replaceChildren();
  if (r.status !== 200) {
    text($('inbox-note'), r.body.error || ('not available (' + r.status + ')'));
    return;
  }
  text($('inbox-note'), r.body.inboxes.length + ' users with stored messages');
  for (const i of r.body.inboxes) {
    const tr = document.createElement('tr');
    cell(tr, i.user);
    cell(tr, i.messages);
    cell(tr, i.queues);
    cell(tr, fmtAge(i.oldest_age_ms));
    cell(tr, '').appendChild(actionButton('Purge', () =>
      adminPost('/api/v1/inboxes/' + encodeURIComponent(i.user) + '/purge', 'purge inbox of ' + i.user)));
    rows.appendChild(tr);
  }
}

function renderCuts(cuts) {
  text($('cut-totals'), cuts.slow_consumers + ' slow consumers and ' + cuts.heartbeat_timeouts +
    ' heart-beat timeouts since start; the last ' + cuts.recent.length + ':');
  const rows = $('cut-rows');
  rows.replaceChildren();
  for (const c of cuts.recent) {
    const tr = document.createElement('tr');
    cell(tr, new Date(c.time_ms).toLocaleTimeString());
    cell(tr, c.reason);
    cell(tr, c.user);
    cell(tr, c.remote);
    cell(tr, c.transport);
    rows.appendChild(tr);
  }
}

function renderCluster(o) {
  text($('cl-enabled'), o.cluster.enabled ? 'attached' : 'none (single node)');
  text($('cl-up'), o.cluster.enabled ? (o.cluster.up ? 'yes' : 'NO') : '–');
  text($('cl-rtt'), o.cluster.enabled && o.cluster.rtt_seconds >= 0 ? (o.cluster.rtt_seconds * 1000).toFixed(2) + ' ms' : '–');
  text($('cl-ready'), o.ready ? 'yes' : 'no');
}

let busy = false;
async function refresh() {
  if (busy) return;
  busy = true;
  try {
    const now = Date.now();
    const [overview, connections, destinations, inboxes] = await Promise.all([
      getJson('/api/v1/overview'), getJson('/api/v1/connections'),
      getJson('/api/v1/destinations'), getJson('/api/v1/inboxes')]);
    renderOverview(overview.body);
    renderConnections(connections.body);
    renderDestinations(destinations.body, now);
    renderInboxes(inboxes);
  } catch (e) {
    const state = $('state');
    text(state, 'unreachable');
    state.className = 'badge bad';
  } finally {
    busy = false;
  }
}

function showTab(name) {
  currentTab = name;
  for (const b of document.querySelectorAll('#tabs button')) b.classList.toggle('active', b.dataset.tab === name);
  for (const s of document.querySelectorAll('section.tab')) s.hidden = s.id !== name;
  if (name === 'overview') drawChart();
}

for (const b of document.querySelectorAll('#tabs button')) b.addEventListener('click', () => showTab(b.dataset.tab));
$('admin').addEventListener('submit', (e) => e.preventDefault());
refresh();
setInterval(refresh, POLL_MS);
