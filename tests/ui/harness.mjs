// ui.harness: the browser-test harness itself, on a page that exists
// without the dashboard (/docs): Chromium starts through puppeteer-core, the
// daemon runs with two SQLite targets and dev keys, tokens are minted, a
// page's console errors are collected, axe-core runs under the page's CSP,
// a screenshot is written, and nothing but loopback is reachable.
import { run } from './lib/check.mjs';
import { Daemon } from './lib/daemon.mjs';
import { launch, newPage, expectClean, screenshot, ARTIFACTS } from './lib/browser.mjs';
import fs from 'node:fs';
import path from 'node:path';

run('ui.harness', async (t) => {
  const d = new Daemon();
  t.onDone((tt) => d.cleanup(tt));
  await d.start();
  t.ok(`daemon on ${d.base} with targets ${d.targetNames.join(', ')}`);

  const r = await d.api('GET', '/targets', 'viewer');
  const names = (r.json && (r.json.targets || r.json).map ? (r.json.targets || r.json).map((x) => x.name) : []).sort();
  t.check(r.status === 200 && names.join(',') === 'app,shop', `GET /targets lists app and shop (got ${r.status} ${names})`, r.text);
  t.check((await d.api('POST', '/backup/create?target=shop', 'viewer')).status === 403, 'a viewer token is refused a backup (403)');

  const browser = await launch(t, d.work);
  t.ok(`Chromium ${await browser.version()} started`);
  const page = await newPage(browser, t);
  await page.goto(`${d.base}/docs`, { waitUntil: 'networkidle0' });
  await page.waitForSelector('.swagger-ui .opblock', { timeout: 30000 });
  t.check((await page.$$('.opblock')).length > 5, '/docs rendered its operations');
  const csp = await page.evaluate(async () => (await fetch('/docs')).headers.get('content-security-policy'));
  t.ok(`/docs CSP: ${csp}`);

  // axe evaluated through the protocol, not a <script>: works under the CSP
  // (its findings on Swagger UI are reported, not judged: not our page)
  await page.evaluate(fs.readFileSync(path.join(process.env.DBB_UI_NODE_MODULES, 'axe-core/axe.min.js'), 'utf8'));
  const v = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations.length);
  t.check(typeof v === 'number', `axe-core ran on /docs (${v} violation kinds, Swagger UI's)`);
  expectClean(t, page, 'on /docs');

  // a console error and an exception are caught
  await page.evaluate(() => {
    console.error('harness-probe');
    setTimeout(() => {
      throw new Error('harness-probe-exception');
    }, 0);
  });
  await new Promise((res) => setTimeout(res, 200));
  t.check(page.problems.some((p) => p.includes('harness-probe')) && page.problems.some((p) => p.includes('harness-probe-exception')),
    'console errors and uncaught exceptions are collected', page.problems.join('\n'));
  page.problems.length = 0;

  // no network but loopback
  page.quiet = true;
  const outside = await page.evaluate(() => fetch('https://cdn.jsdelivr.net/').then(() => 'reached', (e) => `refused: ${e}`));
  page.quiet = false;
  t.check(outside.startsWith('refused'), `a foreign host is unreachable from the page (${outside})`);

  const shot = await screenshot(t, page, 'harness-docs');
  t.check(shot.startsWith(ARTIFACTS), `screenshots go to ${ARTIFACTS}`);

  // the token minting: three roles, each accepted with its rights
  for (const role of ['viewer', 'operator', 'admin']) {
    const s = await d.api('GET', '/backup/list?target=app', role);
    t.check(s.status === 200, `a minted ${role} token lists backups`);
  }

  // if the dashboard is already served, it answers with its CSP
  const ui = await d.api('GET', '/ui/', null);
  if (ui.status === 200) {
    t.check(/script-src 'self'/.test(ui.headers.get('content-security-policy') || ''), '/ui/ has a CSP with script-src self');
  } else {
    console.log(`# /ui/ answers ${ui.status}: the dashboard is not in this build yet`);
  }
});
