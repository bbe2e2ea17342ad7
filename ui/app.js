// The dashboard (issue 21, docs/dashboard.md): a client of the public API.
import * as auth from './auth.js';
import { api, watchJob, upload, download, enc, ApiError } from './api.js';
import { $, $$, el, fmtBytes, fmtDuration, fmtAge, fmtTime, notify, badge } from './util.js';

const state = {
  targets: [], defaultTarget: null, offsite: {}, view: 'overview',
  backups: [], backupsSeq: 0, overviewSeq: 0, sort: { key: 'created_at', dir: -1 }, prune: null,
  charts: new Map(), durations: new Map(), jobs: new Map(),
};

// ---- sign-in ----
function showSignedIn(on) {
  $('#signin').hidden = on;
  $('#app').hidden = !on;
  $('#session').hidden = !on;
}

function renderSession() {
  $('#user-name').textContent = auth.userName();
  $('#user-role').textContent = auth.roleFor();
  updateExpiry();
}

function updateExpiry() {
  const s = auth.current();
  if (!s) return;
  const left = (s.exp - Date.now()) / 1000;
  const t = new Date(s.exp).toLocaleTimeString();
  $('#token-expiry').textContent = `${t} (${left > 0 ? 'in ' + fmtDuration(left) : 'expired'}${s.refresh ? ', renewed automatically' : ''})`;
}
setInterval(updateExpiry, 15000);

auth.onSessionChange((s, reason) => {
  if (reason) notify(reason, 'error');
  if (s) {
    renderSession();
    return;
  }
  showSignedIn(false);
  for (const c of state.charts.values()) c.destroy();
  state.charts.clear();
  for (const j of state.jobs.values()) j.abort.abort();
  state.jobs.clear();
  $('#jobs').replaceChildren(el('p', { class: 'muted empty' }, 'No jobs started in this session.'));
  $('#cards').replaceChildren();
  $('#backups-table tbody').replaceChildren();
  $('#view-overview').removeAttribute('data-loaded');
  $('#backups-table').removeAttribute('data-loaded');
  $('#token-input').value = '';
});

async function start() {
  try {
    await loadTargets();
  } catch (e) {
    auth.signOut();
    notify('Sign-in failed: ' + e.message, 'error');
    return;
  }
  $('#token-input').value = ''; // the token lives in auth.js's memory only
  showSignedIn(true);
  renderSession();
  setupRoleControls();
  show(state.view);
  loadJobs();
}

$('#token-submit').addEventListener('click', async () => {
  const t = $('#token-input').value.trim();
  if (!t) return notify('Paste a token first.', 'error');
  try {
    auth.usePastedToken(t);
  } catch (e) {
    return notify('This token cannot be used: ' + e.message, 'error');
  }
  await start();
});
$('#signout').addEventListener('click', () => { auth.signOut(); notify('Signed out.'); });

// ---- navigation ----
function show(view) {
  state.view = view;
  for (const b of $$('.tabs button')) {
    const on = b.dataset.view === view;
    if (on) b.setAttribute('aria-current', 'page'); else b.removeAttribute('aria-current');
    $('#view-' + b.dataset.view).hidden = !on;
  }
  if (view === 'overview') loadOverview();
  if (view === 'backups') loadBackups();
}
for (const b of $$('.tabs button')) b.addEventListener('click', () => show(b.dataset.view));
// the overview stays current while it is open (ages, next run, new backups)
setInterval(() => {
  if (auth.current() && state.view === 'overview' && !document.hidden) loadOverview(true);
}, 60000);

// ---- targets ----
async function loadTargets() {
  const r = await api('GET', '/targets');
  state.targets = r.targets;
  state.defaultTarget = r.default_target;
  for (const t of r.targets) state.offsite[t.name] = !!t.offsite;
  for (const id of ['#target-select', '#upload-target', '#prune-target']) {
    const s = $(id), old = s.value;
    s.replaceChildren(...r.targets.map((t) => el('option', { value: t.name }, t.name + (t.default ? ' (default)' : ''))));
    if (old && r.targets.some((t) => t.name === old)) s.value = old;
  }
}

// ---- role-dependent controls: present only for roles that may use them ----
function setupRoleControls() {
  const tgt = $('#target-select').value;
  $('#create-slot').replaceChildren(auth.can('operator', tgt)
    ? el('button', { type: 'button', id: 'create-backup', class: 'primary', onclick: createBackup }, 'Create backup')
    : '');
  const pt = $('#prune-target').value;
  $('#prune-preview').disabled = !auth.can('operator', pt);
  $('#prune-preview').title = auth.can('operator', pt) ? '' : 'needs the operator role';
  $('#upload-submit').hidden = !auth.can('operator', $('#upload-target').value);
  renderPruneSubmit();
}
$('#target-select').addEventListener('change', () => { setupRoleControls(); loadBackups(); });
$('#prune-target').addEventListener('change', () => { state.prune = null; renderPrune(); setupRoleControls(); });
$('#upload-target').addEventListener('change', setupRoleControls);

// ---- overview ----
// background: a periodic refresh, which leaves data-loaded as it is
async function loadOverview(background = false) {
  const view = $('#view-overview');
  const cards = $('#cards');
  if (!background) view.removeAttribute('data-loaded'); // set again once this load's data arrived
  const seq = ++state.overviewSeq;
  // the cards first, with their space reserved, then their data
  const cardOf = (name) => $(`section[data-target="${CSS.escape(name)}"]`, cards) || cards.appendChild(targetCard(name));
  state.targets.forEach((t) => cardOf(t.name));
  try {
    await loadTargets();
    await loadJobDurations();
    const [ready] = await Promise.all([api('GET', '/ready').catch((e) => (e.body && e.body.checks ? e.body : null))]);
    const free = readyFree(ready);
    $('#free-space').textContent = free[state.defaultTarget] !== undefined ? fmtBytes(free[state.defaultTarget]) : 'unknown';
    const seen = new Set();
    await Promise.all(state.targets.map(async (t) => {
      seen.add(t.name);
      await fillCard(cardOf(t.name), t, free[t.name]);
    }));
    for (const c of $$('section[data-testid="target-card"]', cards)) if (!seen.has(c.dataset.target)) c.remove();
    if (seq === state.overviewSeq) view.dataset.loaded = 'true';
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) notify('Overview: ' + e.message, 'error');
  }
}

// free bytes per target from GET /ready's details (a viewer token sees them)
function readyFree(r) {
  const out = {};
  if (!r || !r.checks) return out;
  if (r.targets) for (const t of r.targets) out[t.name] = t.checks && t.checks.backup_dir && t.checks.backup_dir.free_bytes;
  else if (r.checks.backup_dir) out[state.defaultTarget] = r.checks.backup_dir.free_bytes;
  return out;
}

function item(label, cls) {
  return el('div', { class: 'kv ' + cls }, el('span', { class: 'k' }, label), el('span', { class: 'v' }, '…'));
}

function targetCard(name) {
  const h = el('h3', {}, name);
  return el('section', { class: 'card', dataset: { testid: 'target-card', target: name }, 'aria-label': 'Target ' + name },
    h,
    item('Health', 'health'), item('Last backup', 'last-backup'), item('Next run', 'next-run'),
    item('Consecutive failures', 'failures'), item('Free space', 'free'),
    el('div', { class: 'chart', role: 'img', 'aria-label': 'Backup size and duration over the last 90 days' }));
}

function setKv(card, cls, ...content) {
  const v = $(`.${cls} .v`, card);
  v.replaceChildren(...content);
}

async function fillCard(card, t, free) {
  const q = { target: t.name };
  const [list, sched] = await Promise.all([
    api('GET', '/backup/list', q).catch(() => null),
    api('GET', '/backup/schedule', q).catch(() => null),
  ]);
  const h = t.health || {};
  setKv(card, 'health', h.ok ? badge('healthy', 'ok') : badge('failing', 'bad', h.database_message || h.backup_dir_message || ''),
    ' ', t.type);
  const backups = list ? list.backups.filter((b) => b.type !== 'safety_backup') : [];
  const last = backups[0];
  if (sched && sched.last_run && sched.last_run.file && sched.last_run.outcome === 'success')
    state.durations.set(sched.last_run.file, sched.last_run.duration_seconds);
  if (last) {
    const dur = durationOf(last);
    setKv(card, 'last-backup',
      el('span', {}, fmtAge(last.created_at) + ', ' + fmtBytes(last.size_bytes) + (dur !== undefined ? ', took ' + fmtDuration(dur) : '')),
      ' ', verifyBadge(last), ' ', offsiteBadge(last));
  } else {
    setKv(card, 'last-backup', list ? 'none yet' : 'cannot be listed');
  }
  if (sched) {
    setKv(card, 'next-run', sched.scheduled && sched.next_run_utc ? fmtTime(sched.next_run_utc) + ' (' + fmtAge(sched.next_run_utc) + ')' : 'not scheduled');
    const f = sched.consecutive_failures || 0;
    setKv(card, 'failures', f ? badge(String(f), 'bad') : badge('0', 'ok'));
  } else {
    setKv(card, 'next-run', 'unknown');
    setKv(card, 'failures', 'unknown');
  }
  setKv(card, 'free', free !== undefined ? fmtBytes(free) : 'unknown');
  drawChart(card, t.name, backups);
}

// duration of a backup: from the list (duration_seconds), or from the job
// or scheduled run that made it
function durationOf(b) {
  if (typeof b.duration_seconds === 'number') return b.duration_seconds;
  return state.durations.get(b.filename);
}

async function loadJobDurations() {
  const r = await api('GET', '/jobs').catch(() => null);
  for (const j of (r && r.jobs) || []) {
    const file = j.result && j.result.filename;
    if (j.kind === 'create' && j.state === 'succeeded' && file && j.started_at && j.finished_at)
      state.durations.set(file, (Date.parse(j.finished_at) - Date.parse(j.started_at)) / 1000);
  }
}

let uPlotMod = null;
// size (in the unit that suits the largest) and duration of the target's
// backups of the last 90 days, x from 90 days ago to now
async function drawChart(card, name, backups) {
  const box = $('.chart', card);
  const now = Date.now() / 1000, since = now - 90 * 86400;
  const pts = backups.filter((b) => Date.parse(b.created_at) / 1000 >= since)
    .sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at));
  const old = state.charts.get(name);
  if (old) { old.destroy(); state.charts.delete(name); }
  if (!pts.length) {
    box.replaceChildren(el('p', { class: 'muted' }, 'No backups in the last 90 days.'));
    return;
  }
  const maxSize = Math.max(...pts.map((b) => b.size_bytes));
  const [div, unit] = maxSize >= 2 ** 30 ? [2 ** 30, 'GiB'] : maxSize >= 2 ** 20 ? [2 ** 20, 'MiB'] : [1024, 'KiB'];
  const data = [
    pts.map((b) => Date.parse(b.created_at) / 1000),
    pts.map((b) => b.size_bytes / div),
    pts.map((b) => { const d = durationOf(b); return d === undefined ? null : d; }),
  ];
  uPlotMod = uPlotMod || (await import('./uPlot.esm.js')).default;
  const plot = el('div', { class: 'plot' });
  box.replaceChildren(el('p', { class: 'legend' },
    el('span', { class: 'swatch size' }), `size (${unit}) `, el('span', { class: 'swatch dur' }), 'duration (s)'), plot);
  const chart = new uPlotMod({
    width: chartWidth(box), height: 170, legend: { show: false },
    scales: { x: { time: true, range: () => [since, now] }, y: { range: fromZero }, s: { range: fromZero } },
    series: [{}, { label: `Size (${unit})`, stroke: '#1f5fa8', width: 2, points: { show: true, size: 6 } },
      { label: 'Duration (s)', stroke: '#a34a00', width: 2, dash: [6, 4], scale: 's', points: { show: true, size: 6 }, spanGaps: true }],
    axes: [{ space: 60 }, { size: 48 }, { side: 1, scale: 's', grid: { show: false }, size: 40 }],
  }, data, plot);
  state.charts.set(name, chart);
}
const fromZero = (u, min, max) => [0, max > 0 ? max * 1.15 : 1];
const chartWidth = (box) => Math.max(220, box.clientWidth);
window.addEventListener('resize', () => {
  for (const [name, c] of state.charts) {
    const box = $(`section[data-target="${CSS.escape(name)}"] .chart`);
    if (box) c.setSize({ width: chartWidth(box), height: 170 });
  }
});

function verifyBadge(b) {
  if (b.verify_ok === true) return badge('verified', 'ok', 'test-restored ' + fmtTime(b.verified_at));
  if (b.verify_ok === false) return badge('verify failed', 'bad', fmtTime(b.verified_at));
  return badge('not verified', 'muted');
}
function offsiteBadge(b) {
  if (!b.offsite) return '';
  const s = b.offsite.state;
  return badge('offsite: ' + s, s === 'uploaded' ? 'ok' : s === 'failed' ? 'bad' : 'warn', b.offsite.error || '');
}

// ---- backups table ----
async function loadBackups() {
  const table = $('#backups-table');
  const target = $('#target-select').value || state.defaultTarget;
  table.removeAttribute('data-loaded'); // set again once this list arrived
  const seq = ++state.backupsSeq;
  try {
    const r = await api('GET', '/backup/list', { target, location: state.offsite[target] ? 'all' : undefined });
    if (seq !== state.backupsSeq) return; // a newer load is on its way
    state.backups = r.backups.map((b) => ({ ...b, location: b.location || 'local' }));
    state.backupsTarget = target;
    renderBackups();
    table.dataset.loaded = 'true';
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) notify('Backups: ' + e.message, 'error');
  }
}

function renderBackups() {
  const target = state.backupsTarget;
  const f = $('#backup-filter').value.trim().toLowerCase();
  const loc = $('#location-filter').value;
  const { key, dir } = state.sort;
  const rows = state.backups
    .filter((b) => (!f || b.filename.toLowerCase().includes(f)) && (loc === 'all' || b.location === loc))
    .sort((a, b) => {
      const x = key === 'created_at' ? Date.parse(a[key]) : a[key], y = key === 'created_at' ? Date.parse(b[key]) : b[key];
      return (x < y ? -1 : x > y ? 1 : 0) * dir;
    });
  const tbody = $('#backups-table tbody');
  if (!rows.length) {
    tbody.replaceChildren(el('tr', {}, el('td', { colspan: 6, class: 'muted' }, state.backups.length ? 'No backup matches the filter.' : 'No backups yet.')));
    return;
  }
  tbody.replaceChildren(...rows.map((b) => backupRow(b, target)));
}

function backupRow(b, target) {
  const local = b.location !== 'remote';
  const badges = [];
  if (b.type === 'safety_backup') badges.push(badge('safety', 'warn'));
  badges.push(b.compressed ? badge(b.compression, 'info', 'compressed') : badge('uncompressed', 'muted'));
  if (b.encrypted) badges.push(badge('encrypted', 'info'));
  badges.push(verifyBadge(b));
  const ob = offsiteBadge(b);
  if (ob) badges.push(ob);
  const actions = [];
  const act = (action, label, fn, cls = '') =>
    el('button', { type: 'button', class: cls, dataset: { action }, 'aria-label': label + ' ' + b.filename, onclick: fn }, label);
  if (local && auth.can('viewer', target)) actions.push(act('download', 'Download', () => doDownload(b, target)));
  if (local && auth.can('operator', target)) {
    actions.push(act('verify', 'Verify', () => startJob('POST', '/backup/verify/' + enc(b.filename), { target }, 'verify ' + b.filename)));
    actions.push(act('restore', 'Restore', () => openRestore({ target, file: b.filename })));
  }
  if (local && auth.can('admin', target)) actions.push(act('delete', 'Delete', () => openDelete(b, target), 'danger'));
  // data-label: the column's name, shown beside the cell on a narrow screen
  return el('tr', { dataset: { file: b.filename } },
    el('th', { scope: 'row', class: 'file' }, b.filename),
    el('td', { dataset: { label: 'Created' } }, el('time', { datetime: b.created_at, title: fmtTime(b.created_at) }, fmtAge(b.created_at))),
    el('td', { class: 'num', dataset: { label: 'Size' } }, fmtBytes(b.size_bytes)),
    el('td', { class: 'badges', dataset: { label: 'State' } }, ...badges.flatMap((x) => [x, ' '])),
    el('td', { dataset: { label: 'Location' } }, b.location),
    el('td', { class: 'actions' }, ...actions));
}

$('#backup-filter').addEventListener('input', renderBackups);
$('#location-filter').addEventListener('change', renderBackups);
for (const btn of $$('#backups-table .sort')) {
  btn.addEventListener('click', () => {
    const key = btn.dataset.key;
    state.sort = { key, dir: state.sort.key === key ? -state.sort.dir : key === 'created_at' || key === 'size_bytes' ? -1 : 1 };
    for (const th of $$('#backups-table thead th[aria-sort]'))
      th.setAttribute('aria-sort', $('.sort', th).dataset.key === key ? (state.sort.dir > 0 ? 'ascending' : 'descending') : 'none');
    renderBackups();
  });
}

async function doDownload(b, target) {
  try {
    notify('Downloading ' + b.filename + '…');
    await download('/backup/download/' + enc(b.filename) + '?target=' + enc(target), b.filename);
  } catch (e) {
    notify('Download failed: ' + e.message, 'error');
  }
}

function createBackup() {
  const target = $('#target-select').value;
  startJob('POST', '/backup/create', { target, compress: true }, 'create a backup of ' + target);
}

// ---- jobs: started with ?async=true, watched through their SSE stream ----
async function startJob(method, path, q, what) {
  try {
    const r = await api(method, path, { ...q, async: true });
    addJob(r.job_id, what);
    return r.job_id;
  } catch (e) {
    notify('Could not ' + what + ': ' + e.message, 'error');
    return null;
  }
}

function addJob(id, what, job) {
  if (state.jobs.has(id)) return;
  const box = $('#jobs');
  $('.empty', box)?.remove();
  const bar = el('progress', { max: 100, 'aria-label': 'Progress of ' + what });
  const label = el('span', { class: 'job-title' }, what);
  const status = el('span', { class: 'job-status' }, 'queued');
  const cancel = el('button', { type: 'button', dataset: { action: 'cancel' }, 'aria-label': 'Cancel ' + what, onclick: () => cancelJob(id) }, 'Cancel');
  const node = el('div', { class: 'job', dataset: { jobId: id, status: 'queued' } }, label, status, bar, cancel);
  box.prepend(node);
  // keep the panel short: the 10 newest jobs, and any still running
  const ended = $$('.job', box).filter((n) => ['succeeded', 'failed', 'cancelled'].includes(n.dataset.status));
  for (const n of ended.slice(Math.max(0, 10 - ($$('.job', box).length - ended.length)))) {
    state.jobs.delete(n.dataset.jobId);
    n.remove();
  }
  const abort = new AbortController();
  state.jobs.set(id, { node, abort });
  if (job) updateJob(id, job);
  watchJob(id, (j) => updateJob(id, j), abort.signal)
    .then((j) => { if (j) jobEnded(id, j); })
    .catch((e) => { if (e.name !== 'AbortError') notify('Lost the progress of a job: ' + e.message, 'error'); });
}

function updateJob(id, j) {
  const rec = state.jobs.get(id);
  if (!rec) return;
  const { node } = rec;
  node.dataset.status = j.state;
  const bar = $('progress', node);
  const ended = ['succeeded', 'failed', 'cancelled'].includes(j.state);
  if (ended) bar.value = j.state === 'succeeded' ? 100 : bar.value || 0;
  else if (j.bytes_total) bar.value = Math.min(100, (100 * j.bytes_done) / j.bytes_total);
  else if (j.state === 'running') bar.removeAttribute('value');
  let text = j.state + (j.phase && !ended ? ' · ' + j.phase.replace(/_/g, ' ') : '');
  if (!ended && j.bytes_done) text += ' · ' + fmtBytes(j.bytes_done) + (j.bytes_total ? ' of ' + fmtBytes(j.bytes_total) : '');
  if (!ended && j.eta_seconds) text += ' · ' + fmtDuration(j.eta_seconds) + ' left';
  if (ended && j.result && j.result.message) text += ': ' + j.result.message;
  else if (ended && j.kind === 'prune' && j.result && typeof j.result.removed === 'number') text += ': ' + j.result.removed + ' deleted, ' + j.result.kept + ' kept';
  $('.job-status', node).textContent = text;
  const cancel = $('button[data-action="cancel"]', node);
  if (ended && cancel) cancel.remove();
}

function jobEnded(id, j) {
  updateJob(id, j);
  if (j.state === 'failed') notify('Job failed: ' + ((j.result && j.result.message) || j.kind), 'error');
  else if (j.state === 'succeeded') notify('Done: ' + ((j.result && j.result.message) || j.kind));
  if (j.kind === 'create' && j.started_at && j.finished_at && j.result && j.result.filename)
    state.durations.set(j.result.filename, (Date.parse(j.finished_at) - Date.parse(j.started_at)) / 1000);
  if (state.view === 'backups') loadBackups();
  if (state.view === 'overview') loadOverview();
}

async function cancelJob(id) {
  try {
    await api('DELETE', '/jobs/' + enc(id));
    notify('Cancelling the job…');
  } catch (e) {
    notify('Could not cancel: ' + e.message, 'error');
  }
}

// jobs already running when the page signs in
async function loadJobs() {
  const r = await api('GET', '/jobs').catch(() => null);
  for (const j of (r && r.jobs) || [])
    if (j.state === 'queued' || j.state === 'running') addJob(j.id, j.kind + (j.file ? ' ' + j.file : '') + ' (' + j.target + ')', j);
}

// ---- restore (a listed backup, or an upload) ----
let restoreFor = null; // {target, file} or {target, upload: File}
function openRestore(what) {
  restoreFor = what;
  $('#restore-target-name').textContent = what.target;
  $('#restore-file-name').textContent = what.file || (what.upload && what.upload.name);
  $('#restore-confirm').value = '';
  $('#restore-safety').checked = true;
  $('#restore-submit').disabled = true;
  $('#restore-dialog').showModal();
  $('#restore-confirm').focus();
}
$('#restore-confirm').addEventListener('input', () => {
  $('#restore-submit').disabled = !restoreFor || $('#restore-confirm').value !== restoreFor.target;
});
$('#restore-cancel').addEventListener('click', () => $('#restore-dialog').close());
$('#restore-dialog').addEventListener('close', () => { restoreFor = null; });
$('#restore-submit').addEventListener('click', () => {
  const w = restoreFor;
  if (!w || $('#restore-confirm').value !== w.target) return;
  const safety = $('#restore-safety').checked;
  $('#restore-dialog').close();
  if (w.upload) return doUpload(w.upload, w.target, safety);
  startJob('POST', '/backup/restore/' + enc(w.file), { target: w.target, create_safety_backup: safety }, 'restore ' + w.file + ' into ' + w.target);
});

// ---- delete ----
let deleteFor = null;
function openDelete(b, target) {
  deleteFor = { file: b.filename, target };
  $('#delete-file-name').textContent = b.filename;
  $('#delete-target-name').textContent = target;
  $('#delete-dialog').showModal();
  $('#delete-cancel').focus();
}
$('#delete-cancel').addEventListener('click', () => $('#delete-dialog').close());
$('#delete-submit').addEventListener('click', () => {
  const d = deleteFor;
  $('#delete-dialog').close();
  if (d) startJob('DELETE', '/backup/delete/' + enc(d.file), { target: d.target }, 'delete ' + d.file);
});

// ---- upload & restore ----
$('#upload-file').addEventListener('change', () => { $('#upload-submit').disabled = !$('#upload-file').files.length; });
$('#upload-submit').addEventListener('click', () => {
  const f = $('#upload-file').files[0];
  if (f) openRestore({ target: $('#upload-target').value, upload: f });
});

async function doUpload(file, target, safety) {
  const bar = $('#upload-progress'), st = $('#upload-status');
  bar.value = 0;
  $('#upload-submit').disabled = true;
  try {
    const r = await upload(file, { target, create_safety_backup: safety }, (done, total) => {
      bar.value = total ? (100 * done) / total : 0;
      st.textContent = fmtBytes(done) + ' of ' + fmtBytes(total) + ' sent';
    });
    bar.value = 100;
    st.textContent = 'Uploaded; the restore runs as a job.';
    addJob(r.job_id, 'restore upload ' + file.name + ' into ' + target);
  } catch (e) {
    st.textContent = '';
    notify('Upload failed: ' + e.message, 'error');
  } finally {
    $('#upload-submit').disabled = !$('#upload-file').files.length;
  }
}

// ---- retention ----
$('#prune-preview').addEventListener('click', async () => {
  const target = $('#prune-target').value;
  try {
    state.prune = { target, result: await api('POST', '/backup/prune', { target, dry_run: true }) };
  } catch (e) {
    state.prune = null;
    notify('Preview failed: ' + e.message, 'error');
  }
  renderPrune();
});

function renderPrune() {
  const tbody = $('#prune-table tbody');
  const p = state.prune;
  if (!p) {
    tbody.replaceChildren();
    $('#prune-summary').textContent = 'Run a preview to see which backups the retention policy would keep and delete.';
    renderPruneSubmit();
    return;
  }
  const r = p.result;
  const row = (e, decision) => el('tr', { dataset: { file: e.file, decision } },
    el('th', { scope: 'row', class: 'file' }, e.file),
    el('td', {}, fmtTime(e.time)),
    el('td', {}, badge(decision === 'keep' ? 'would keep' : 'would delete', decision === 'keep' ? 'ok' : 'bad')),
    el('td', { class: 'reason' }, [...new Set([...(e.reasons || []), ...(e.matches || [])])].join('; ') ||
      (decision === 'delete' ? 'no rule of the policy keeps it' : e.safety ? 'safety backup' : '—')));
  tbody.replaceChildren(...r.remove.map((e) => row(e, 'delete')), ...r.keep.map((e) => row(e, 'keep')));
  $('#prune-summary').textContent = r.policy_empty
    ? 'No retention policy is set for this target: nothing would be deleted.'
    : `Would keep ${r.keep.length}, would delete ${r.remove.length}` + (r.held_back ? ' (held back: see the reasons)' : '') + '.';
  renderPruneSubmit();
}

function renderPruneSubmit() {
  const p = state.prune;
  const target = $('#prune-target').value;
  $('#prune-slot').replaceChildren(auth.can('admin', target)
    ? el('button', { type: 'button', id: 'prune-submit', class: 'danger', disabled: !p || !p.result.remove.length, onclick: openPrune }, 'Prune…')
    : '');
}

function openPrune() {
  const p = state.prune;
  if (!p) return;
  $('#prune-count').textContent = String(p.result.remove.length);
  $('#prune-target-name').textContent = p.target;
  $('#prune-dialog').showModal();
  $('#prune-cancel').focus();
}
$('#prune-cancel').addEventListener('click', () => $('#prune-dialog').close());
$('#prune-confirm').addEventListener('click', async () => {
  const p = state.prune;
  $('#prune-dialog').close();
  if (!p) return;
  state.prune = null;
  renderPrune();
  await startJob('POST', '/backup/prune', { target: p.target }, 'prune ' + p.target);
});

// ---- start ----
(async () => {
  try {
    const cfg = await auth.loadConfig();
    if (cfg.auth === 'keycloak') {
      $('#keycloak-box').hidden = false;
      $('#keycloak-box').append(el('button', { type: 'button', id: 'keycloak-signin', class: 'primary', onclick: () => auth.startKeycloakLogin().catch((e) => notify(e.message, 'error')) }, 'Sign in with Keycloak'));
    }
    if (await auth.completeKeycloakLogin()) await start();
  } catch (e) {
    notify('Sign-in failed: ' + e.message, 'error');
  }
  document.body.dataset.ready = 'true';
})();
