// Debian's Chromium driven by puppeteer-core (installed by tests/ui/deps.sh
// into DBB_UI_NODE_MODULES): launch with a fresh profile and no network but
// loopback, pages that collect console errors and uncaught exceptions, axe-core,
// screenshots into DBB_UI_ARTIFACTS.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const NM = process.env.DBB_UI_NODE_MODULES;
if (!NM || !fs.existsSync(path.join(NM, 'puppeteer-core'))) {
  console.error(`ui: no puppeteer-core under DBB_UI_NODE_MODULES=${NM} (tests/ui/deps.sh installs it)`);
  process.exit(1);
}
const require = createRequire(path.join(NM, 'noop.js'));
export const puppeteer = require('puppeteer-core');
const AXE_SOURCE = fs.readFileSync(path.join(NM, 'axe-core/axe.min.js'), 'utf8');
export const ARTIFACTS = process.env.DBB_UI_ARTIFACTS || path.join(process.env.DBB_TEST_TMP || '/tmp', 'ui-artifacts');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 1 };

// launch(t, workDir): the browser; closed by t's cleanups.
export async function launch(t, workDir) {
  const profile = fs.mkdtempSync(path.join(workDir, 'chromium-profile.'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: profile,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
      // nothing but loopback: the page can only use what the daemon (and
      // Keycloak, on loopback too) serves
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    ],
    defaultViewport: DESKTOP,
    protocolTimeout: 120000,
  });
  t.onDone(async () => {
    await browser.close().catch(() => {});
  });
  return browser;
}

// newPage(browser, t, viewport): a page whose console errors, uncaught
// exceptions and failed requests are collected in page.problems; call
// expectClean(t, page, what) to fail on them. page.quiet = true suspends
// the collection (for a deliberate failing request).
export async function newPage(browser, t, viewport = DESKTOP) {
  const page = await browser.newPage();
  await page.setViewport(viewport);
  page.problems = [];
  page.quiet = false;
  page.setDefaultTimeout(30000);
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !page.quiet) {
      const loc = msg.location();
      page.problems.push(`console error: ${msg.text()}${loc && loc.url ? ` (${loc.url}:${loc.lineNumber})` : ''}`);
    }
  });
  page.on('pageerror', (err) => {
    if (!page.quiet) page.problems.push(`uncaught exception: ${err && err.stack ? err.stack : err}`);
  });
  page.on('requestfailed', (req) => {
    const why = req.failure() ? req.failure().errorText : '?';
    // a stream the page aborts on purpose (SSE reader closed, navigation) is not an error
    if (!page.quiet && why !== 'net::ERR_ABORTED') page.problems.push(`request failed: ${req.url()} ${why}`);
  });
  return page;
}

// expectClean(t, page, WHAT): no console error, exception or failed request
// since the last call.
export function expectClean(t, page, what) {
  const p = page.problems.splice(0);
  t.check(p.length === 0, `no console errors or page errors ${what}`, p.join('\n'));
}

// axe(t, page, WHAT[, context]): axe-core on the page as it is; fails on a
// violation of impact serious or critical. axe's source is evaluated through
// the DevTools protocol (Runtime.evaluate), which the page's CSP does not
// govern: the page itself is not changed, nor its CSP bypassed.
export async function axe(t, page, what, context = 'document') {
  const present = await page.evaluate(() => typeof window.axe === 'object');
  if (!present) await page.evaluate(AXE_SOURCE);
  const res = await page.evaluate(
    async (ctx) => {
      const r = await window.axe.run(ctx === 'document' ? document : ctx, {
        resultTypes: ['violations'],
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
      });
      return r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary}`),
      }));
    },
    context,
  );
  const bad = res.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const minor = res.filter((v) => !bad.includes(v));
  if (minor.length) console.log(`# axe (${what}), minor/moderate: ${minor.map((v) => `${v.id}(${v.impact})`).join(', ')}`);
  t.check(bad.length === 0, `axe-core: no serious or critical violations ${what}`,
    bad.map((v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.join('\n    ')}`).join('\n  '));
  return res;
}

// screenshot(t, page, NAME): ARTIFACTS/NAME-WxH.png of the viewport.
export async function screenshot(t, page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const vp = page.viewport();
  const file = path.join(ARTIFACTS, `${name}-${vp.width}x${vp.height}.png`);
  await page.evaluate(() => document.fonts && document.fonts.ready);
  await page.screenshot({ path: file, captureBeyondViewport: false });
  const size = fs.statSync(file).size;
  // a blank page compresses to a few KiB; a rendered one is larger
  t.check(size > 8000, `screenshot ${path.basename(file)} (${size} bytes)`);
  return file;
}
