// Sign-in and tokens. Tokens live in this module's memory only (never in
// localStorage, sessionStorage or cookies): a reload signs out. With
// Keycloak, the authorization-code flow with PKCE (S256) for a public
// client; the verifier and state wait in sessionStorage only while the
// browser is away at Keycloak and are deleted as soon as it comes back.
const PKCE_KEY = 'dbbackupd-ui-pkce';
const API_CLIENT = 'dbbackupd'; // KEYCLOAK_CLIENT_ID's default, for client roles

let config = { auth: 'dev' };
let session = null; // {token, refresh, exp, claims, refreshExp}
let renewTimer = 0;
const listeners = new Set();

export const onSessionChange = (fn) => listeners.add(fn);
const changed = () => listeners.forEach((fn) => fn(session));

export async function loadConfig() {
  const r = await fetch('/ui/config.json', { cache: 'no-store' });
  if (r.ok) config = await r.json();
  return config;
}
export const getConfig = () => config;
export const token = () => (session ? session.token : null);
export const current = () => session;

function b64urlDecode(s) {
  s = s.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(s + '='.repeat((4 - (s.length % 4)) % 4));
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}
function b64url(bytes) {
  let s = '';
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
const randomString = (n) => b64url(crypto.getRandomValues(new Uint8Array(n)));

export function decodeJwt(t) {
  const parts = String(t).trim().split('.');
  if (parts.length !== 3) throw new Error('this is not a JWT (three dot-separated parts)');
  return JSON.parse(b64urlDecode(parts[1]));
}

const ROLES = ['none', 'viewer', 'operator', 'admin'];
const rank = (r) => Math.max(0, ROLES.indexOf(r));

// The role names of the token: realm roles and the API client's roles,
// "operator" or "operator:TARGET" (docs/targets.md).
function roleNames(claims) {
  const names = [...((claims.realm_access || {}).roles || [])];
  const ra = claims.resource_access || {};
  if (ra[API_CLIENT]) names.push(...(ra[API_CLIENT].roles || []));
  return names;
}

// The token's role for a target (or the highest of all with no target).
export function roleFor(target) {
  if (!session) return 'none';
  let best = 0;
  for (const n of roleNames(session.claims)) {
    const [base, t] = n.split(':');
    if (t === undefined || target === undefined || t === target) best = Math.max(best, rank(base));
  }
  return ROLES[best];
}
export const can = (need, target) => rank(roleFor(target)) >= rank(need);

export function userName() {
  const c = session ? session.claims : {};
  return c.preferred_username || c.sub || '?';
}

function setSession(access, refresh, refreshExpiresIn) {
  const claims = decodeJwt(access);
  if (typeof claims.exp !== 'number') throw new Error('the token has no expiry (exp)');
  if (claims.exp * 1000 <= Date.now()) throw new Error('the token has expired');
  session = {
    token: access, refresh: refresh || null, exp: claims.exp * 1000, claims,
    refreshExp: refresh && refreshExpiresIn ? Date.now() + refreshExpiresIn * 1000 : null,
  };
  clearTimeout(renewTimer);
  const left = session.exp - Date.now();
  if (session.refresh) {
    // renew at 70% of the lifetime left, at least 5 s before expiry
    renewTimer = setTimeout(renew, Math.max(1000, Math.min(left * 0.7, left - 5000)));
  } else {
    renewTimer = setTimeout(() => signOut('Your token expired: sign in again.'), left);
  }
  changed();
}

export function usePastedToken(t) {
  setSession(String(t).trim(), null);
}

export function signOut(reason) {
  clearTimeout(renewTimer);
  const old = session;
  session = null;
  if (old && old.refresh && config.auth === 'keycloak') {
    // end the Keycloak session too (best effort)
    const body = new URLSearchParams({ client_id: config.keycloak.client_id, refresh_token: old.refresh });
    fetch(endpoint('logout'), { method: 'POST', body }).catch(() => {});
  }
  changed();
  if (reason) listeners.forEach((fn) => fn(null, reason));
}

// ---- Keycloak, authorization code + PKCE ----
const endpoint = (what) =>
  `${config.keycloak.url}/realms/${encodeURIComponent(config.keycloak.realm)}/protocol/openid-connect/${what}`;
const redirectUri = () => location.origin + '/ui/';

export async function startKeycloakLogin() {
  const verifier = randomString(48);
  const state = randomString(24);
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state }));
  const q = new URLSearchParams({
    client_id: config.keycloak.client_id, response_type: 'code', response_mode: 'fragment',
    scope: 'openid', redirect_uri: redirectUri(), state,
    code_challenge: b64url(digest), code_challenge_method: 'S256',
  });
  location.assign(endpoint('auth') + '?' + q);
}

async function tokenRequest(params) {
  const r = await fetch(endpoint('token'), { method: 'POST', body: new URLSearchParams(params) });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error('Keycloak refused: ' + (body.error_description || body.error || r.status));
  setSession(body.access_token, body.refresh_token, body.refresh_expires_in);
}

// Back from Keycloak: #code=...&state=... (response_mode=fragment keeps
// the code out of the daemon's logs). Returns true when a session started.
export async function completeKeycloakLogin() {
  const h = new URLSearchParams(location.hash.slice(1));
  const saved = sessionStorage.getItem(PKCE_KEY);
  sessionStorage.removeItem(PKCE_KEY);
  if (!h.has('code') && !h.has('error')) return false;
  history.replaceState(null, '', location.pathname);
  if (h.has('error')) throw new Error('Keycloak: ' + (h.get('error_description') || h.get('error')));
  const { verifier, state } = saved ? JSON.parse(saved) : {};
  if (!verifier || h.get('state') !== state) throw new Error('sign-in answer does not match this tab (state); try again');
  if (config.auth !== 'keycloak') throw new Error('this daemon does not use Keycloak');
  await tokenRequest({
    grant_type: 'authorization_code', code: h.get('code'), redirect_uri: redirectUri(),
    client_id: config.keycloak.client_id, code_verifier: verifier,
  });
  return true;
}

async function renew() {
  if (!session || !session.refresh) return;
  try {
    await tokenRequest({ grant_type: 'refresh_token', refresh_token: session.refresh, client_id: config.keycloak.client_id });
  } catch (e) {
    signOut('Could not renew the session (' + e.message + '): sign in again.');
  }
}
