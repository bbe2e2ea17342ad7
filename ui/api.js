// The public API (docs/openapi.yaml), always with the bearer token.
import { token, signOut } from './auth.js';

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.message || body.error)) || 'HTTP ' + status);
    this.status = status;
    this.body = body || {};
  }
}

const auth = () => ({ Authorization: 'Bearer ' + token() });

// path + query: q's undefined values are left out.
export function url(path, q = {}) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null) p.set(k, String(v));
  const s = p.toString();
  return s ? path + (path.includes('?') ? '&' : '?') + s : path;
}

export async function api(method, path, q) {
  const r = await fetch(url(path, q), { method, headers: auth(), cache: 'no-store' });
  let body = null;
  if ((r.headers.get('Content-Type') || '').startsWith('application/json')) body = await r.json().catch(() => null);
  if (r.status === 401) signOut('The daemon refused the token (' + ((body && body.message) || 'unauthorized') + '): sign in again.');
  if (!r.ok) throw new ApiError(r.status, body);
  return body;
}

export const enc = encodeURIComponent;

// A job's Server-Sent Events read with fetch (EventSource cannot send the
// Authorization header). onJob(job) for each event; resolves with the last
// job when the stream ends.
export async function watchJob(id, onJob, signal) {
  const r = await fetch('/jobs/' + enc(id) + '/events', { headers: auth(), signal, cache: 'no-store' });
  if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => null));
  const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '', last = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value.replace(/\r\n?/g, '\n');
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n');
      if (!data) continue; // a comment (keep-alive)
      try { last = JSON.parse(data); } catch { continue; }
      onJob(last);
    }
  }
  return last;
}

// POST /backup/restore-upload?async=true with upload progress events.
export function upload(file, q, onProgress) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('POST', url('/backup/restore-upload', { ...q, async: true }));
    x.setRequestHeader('Authorization', 'Bearer ' + token());
    x.responseType = 'json';
    x.upload.addEventListener('progress', (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size));
    x.addEventListener('load', () => (x.status >= 200 && x.status < 300 ? resolve(x.response) : reject(new ApiError(x.status, x.response))));
    x.addEventListener('error', () => reject(new Error('the upload failed (network error)')));
    x.addEventListener('abort', () => reject(new Error('the upload was cancelled')));
    const form = new FormData();
    form.append('file', file, file.name);
    x.send(form);
  });
}

// A download with the token: fetched as a blob, then saved by the browser.
export async function download(path, name) {
  const r = await fetch(path, { headers: auth() });
  if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => null));
  const blob = await r.blob();
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}
