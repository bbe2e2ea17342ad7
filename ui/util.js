// Small DOM and formatting helpers. No innerHTML anywhere: every text the
// API returns goes through textContent.
export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

// el('button', {type: 'button', dataset: {action: 'x'}, onclick}, 'text', child...)
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else if (k in e && typeof v !== 'string') e[k] = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

export function fmtBytes(n) {
  if (n === null || n === undefined || isNaN(n)) return '—';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(n < 10 ? 1 : 0) : n) + ' ' + u[i];
}

export function fmtDuration(s) {
  if (s === null || s === undefined || isNaN(s)) return '—';
  s = Math.max(0, Math.round(s));
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
  if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
}

export function fmtAge(iso) {
  if (!iso) return '—';
  const s = (Date.now() - Date.parse(iso)) / 1000;
  return s < 0 ? 'in ' + fmtDuration(-s) : fmtDuration(s) + ' ago';
}

export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (isNaN(d)) return String(iso);
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

let noticeTimer = 0;
// A message in #notice (role=alert): kind 'error' or 'info'.
export function notify(text, kind = 'info') {
  const n = $('#notice');
  n.textContent = text;
  n.className = 'notice ' + kind;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(clearNotice, kind === 'error' ? 30000 : 8000);
}
function clearNotice() {
  const n = $('#notice');
  n.textContent = '';
  n.className = 'notice';
}
document.addEventListener('DOMContentLoaded', () => $('#notice').addEventListener('click', clearNotice));

export function badge(text, kind = '', title = '') {
  return el('span', { class: 'badge ' + kind, title: title || undefined }, text);
}
