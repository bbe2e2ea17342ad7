// ui.keycloak: a real sign-in through Keycloak's own login page (the
// keycloak fixture, tests/services/keycloak.sh): the realm's dbbackupd-ui
// client (setup/keycloak/backup-realm.json) gets this test's redirect URI
// and web origin through Keycloak's admin API (removed again at the end);
// the dashboard's "Sign in with Keycloak" goes to the realm's login page
// with PKCE (S256); the test types the realm user's name and password there
// (the password read from the fixture's 0600 file, never on a command line);
// back on /ui the header shows the user, the role and the token's expiry,
// the API answers with that token, and no token is left in web storage.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { run, waitFor } from './lib/check.mjs';
import { launch, newPage, expectClean, axe, screenshot } from './lib/browser.mjs';
import { Daemon, SOURCE_DIR } from './lib/daemon.mjs';
import * as ui from './lib/ui.mjs';

const UI_CLIENT = process.env.UI_CLIENT_ID || 'dbbackupd-ui';

function serviceEnv(name) {
  const f = path.join(process.env.DBB_SERVICES_DIR || '', `${name}.env`);
  if (!fs.existsSync(f)) throw new Error(`service ${name} is not running (no ${f})`);
  const env = {};
  for (const m of fs.readFileSync(f, 'utf8').matchAll(/([A-Z_][A-Z0-9_]*)=(\S*)/g)) env[m[1]] = m[2];
  return env;
}

run('ui.keycloak', async (t) => {
  const kc = serviceEnv('keycloak');
  const kcSh = path.join(SOURCE_DIR, 'tests/services/keycloak.sh');
  const kcEnv = { ...process.env, DBB_SERVICE_STATE: kc.KEYCLOAK_STATE.replace(/\/keycloak$/, '') };
  const adminToken = () => execFileSync('bash', [kcSh, 'admin-token'], { env: kcEnv }).toString().trim();
  const admin = async (method, p, body) => {
    const r = await fetch(`${kc.KEYCLOAK_URL}/admin/realms/${kc.KEYCLOAK_REALM}${p}`, {
      method,
      headers: { Authorization: `Bearer ${adminToken()}`, 'Content-Type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    return { status: r.status, json: text ? JSON.parse(text) : null, text };
  };

  const d = new Daemon({
    keycloak: { url: kc.KEYCLOAK_URL, realm: kc.KEYCLOAK_REALM, clientId: kc.KEYCLOAK_CLIENT_ID },
    env: { UI_CLIENT_ID: UI_CLIENT },
  });
  t.onDone((tt) => d.cleanup(tt));
  await d.start();
  t.ok(`daemon on ${d.base} with Keycloak ${kc.KEYCLOAK_URL}`);
  const cfg = await (await fetch(`${d.base}/ui/config.json`)).json();
  t.check(cfg.auth === 'keycloak' && cfg.keycloak && cfg.keycloak.client_id === UI_CLIENT && cfg.keycloak.realm === kc.KEYCLOAK_REALM,
    `/ui/config.json names Keycloak and the ${UI_CLIENT} client`, JSON.stringify(cfg));

  // this test's redirect URI and origin on the realm's UI client
  const found = await admin('GET', `/clients?clientId=${UI_CLIENT}`);
  if (!(found.status === 200 && found.json.length === 1)) throw new Error(`the realm has no client ${UI_CLIENT}: ${found.status} ${found.text}`);
  const client = found.json[0];
  t.check(client.publicClient === true && client.standardFlowEnabled !== false, `${UI_CLIENT} is a public client with the standard (code) flow`);
  const pkce = (client.attributes || {})['pkce.code.challenge.method'];
  t.check(pkce === 'S256', `${UI_CLIENT} requires PKCE S256 (${pkce})`);
  const original = { redirectUris: client.redirectUris || [], webOrigins: client.webOrigins || [], attributes: client.attributes || {} };
  // and access tokens of 30 s, so the renewal happens within the test
  const upd = await admin('PUT', `/clients/${client.id}`, {
    ...client,
    redirectUris: [...original.redirectUris, `${d.base}/ui/*`, `${d.base}/ui/`],
    webOrigins: [...original.webOrigins, d.base],
    attributes: { ...original.attributes, 'access.token.lifespan': '30' },
  });
  t.check(upd.status === 204, `the redirect URI ${d.base}/ui/ added to ${UI_CLIENT} (admin API ${upd.status})`, upd.text);
  t.onDone(async () => {
    const cur = await admin('GET', `/clients/${client.id}`);
    if (cur.status === 200) await admin('PUT', `/clients/${client.id}`, { ...cur.json, ...original });
  });

  const browser = await launch(t, d.work);
  const page = await newPage(browser, t);
  await ui.openUi(page, d.base);
  await page.waitForSelector('#keycloak-signin', { visible: true });
  await axe(t, page, 'on the sign-in view with Keycloak');
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('#keycloak-signin')]);
  const authUrl = new URL(page.url());
  t.check(authUrl.origin === new URL(kc.KEYCLOAK_URL).origin && authUrl.pathname.endsWith('/protocol/openid-connect/auth'),
    `the browser is on Keycloak's authorization endpoint (${authUrl.origin}${authUrl.pathname})`);
  const q = authUrl.searchParams;
  t.check(q.get('client_id') === UI_CLIENT && q.get('response_type') === 'code', 'authorization-code flow for the UI client');
  t.check(q.get('code_challenge_method') === 'S256' && (q.get('code_challenge') || '').length >= 43, 'with a PKCE S256 challenge');
  t.check(q.get('redirect_uri') && q.get('redirect_uri').startsWith(`${d.base}/ui`), `redirect_uri back to /ui (${q.get('redirect_uri')})`);
  t.check(!!q.get('state'), 'with a state');

  // Keycloak's own login page: the realm user's name and password
  await page.waitForSelector('#username', { visible: true });
  const password = fs.readFileSync(path.join(kc.KEYCLOAK_STATE, 'secrets', 'password_operator'), 'utf8').trim();
  await page.type('#username', 'backup-operator');
  await page.type('#password', password);
  page.quiet = true; // Keycloak's page is not ours to judge
  await Promise.all([page.waitForNavigation({ waitUntil: 'load', timeout: 60000 }), page.click('#kc-login')]);
  page.problems.length = 0;
  page.quiet = false;
  t.check(page.url().startsWith(`${d.base}/ui`), `back on the dashboard (${new URL(page.url()).origin}${new URL(page.url()).pathname})`);
  await page.waitForSelector('#user-name', { visible: true, timeout: 30000 });
  await waitFor(async () => (await ui.text(page, '#user-name')).length > 0, { what: '#user-name' });
  const user = await ui.text(page, '#user-name');
  const role = await ui.text(page, '#user-role');
  const exp = await ui.text(page, '#token-expiry');
  t.check(/backup-operator|Backup Operator/i.test(user), `the header shows the user (${user})`);
  t.check(role === 'operator', `the header shows the role (${role})`);
  t.check(exp.length > 0, `the header shows the token's expiry (${exp})`);
  t.check(!/[?&#](code|state)=/.test(page.url()), 'the code and state are gone from the address');
  const leaked = await page.evaluate(() =>
    [JSON.stringify(localStorage), JSON.stringify(sessionStorage), document.cookie].some((s) => /eyJ[\w-]+\.eyJ/.test(s)),
  );
  t.check(!leaked, 'no token in localStorage, sessionStorage or cookies');

  await ui.overviewLoaded(page);
  const cards = await page.$$eval('[data-testid="target-card"]', (cs) => cs.length);
  t.check(cards >= 1, `the daemon accepts the Keycloak token: the overview shows ${cards} target(s)`);
  await ui.go(page, 'backups');
  await ui.backupsLoaded(page);
  t.check(await ui.visible(page, '#create-backup'), 'an operator signed in through Keycloak may create a backup');
  await axe(t, page, 'signed in through Keycloak');
  await screenshot(t, page, 'keycloak-signed-in');
  expectClean(t, page, 'after the Keycloak sign-in');

  // the token is renewed before it expires (refresh token, no new login)
  await t.step('renewal', async () => {
    const refreshes = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/protocol/openid-connect/token') && /grant_type=refresh_token/.test(r.postData() || '')) refreshes.push(r.url());
    });
    const expAt = async () => (await ui.text(page, '#token-expiry')).split(' (')[0];
    const first = await expAt();
    const next = await waitFor(async () => {
      const e = await expAt();
      return refreshes.length > 0 && e !== first ? e : null;
    }, { timeout: 60000, interval: 500, what: 'the token to be renewed' });
    t.ok(`the token was renewed before expiry with the refresh token (expiry ${first} -> ${next})`);
    t.check((await ui.text(page, '#user-role')) === 'operator', 'still signed in as operator after the renewal');
    await ui.go(page, 'overview');
    await ui.overviewLoaded(page);
    t.ok('the overview loads its data with the renewed token');
    // past the first token's lifetime, the API still answers the page
    await new Promise((res) => setTimeout(res, 12000));
    await ui.go(page, 'backups');
    await ui.backupsLoaded(page, 'shop');
    t.ok('past the first token\'s expiry the dashboard still loads data (the renewed token is used)');
    expectClean(t, page, 'through the renewal');
  });

  // a reload signs out (the token was in memory only)
  await page.reload({ waitUntil: 'load' });
  await page.waitForSelector('#signin', { visible: true });
  t.check(!(await ui.visible(page, '#user-name')), 'a reload signs out (token in memory only)');
  page.problems.length = 0;
});
