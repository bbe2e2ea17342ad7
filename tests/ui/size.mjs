// ui.size (a measurement): the gzipped size of the dashboard's own files
// (HTML, JS, CSS: everything the browser loads from /ui while visiting every
// view, plus what index.html names) without the chart library (uPlot) must
// be at most 150 KB (issue 21). Each file is fetched from the daemon and
// gzipped here at level 9; the sizes are printed.
import zlib from 'node:zlib';
import { run } from './lib/check.mjs';
import { startDaemon } from './lib/setup.mjs';
import { launch, newPage } from './lib/browser.mjs';
import * as ui from './lib/ui.mjs';

const LIMIT = 150 * 1024;
const CHART = /uplot|chart(\.umd)?(\.min)?\.js/i;

run('ui.size', async (t) => {
  const urls = new Set();
  const d = await startDaemon(t);
  // a backup, so the overview draws its chart (the chart library loads then)
  t.check((await d.api('POST', '/backup/create?compress=true&target=app', 'operator')).status === 200, 'a backup of app, for the chart');
  const browser = await launch(t, d.work);
  // a page that records every /ui response while it visits everything
  const page = await newPage(browser, t);
  page.on('response', (r) => {
    const u = new URL(r.url());
    if (u.origin === d.base && u.pathname.startsWith('/ui') && r.status() === 200) urls.add(u.pathname);
  });
  await ui.openUi(page, d.base);
  await ui.signInWithToken(page, d.token('admin'));
  await ui.overviewLoaded(page);
  await page.waitForSelector('[data-target="app"] .chart canvas, [data-target="app"] .chart svg', { timeout: 15000 }).catch(() => {});
  for (const v of ui.VIEWS) await ui.go(page, v);
  // and whatever index.html names
  const html = await (await fetch(`${d.base}/ui/`)).text();
  for (const m of html.matchAll(/(?:src|href)="(\/ui\/[^"]+)"/g)) urls.add(m[1]);
  urls.add('/ui/');

  let own = 0;
  let chart = 0;
  const lines = [];
  for (const p of [...urls].sort()) {
    if (p.endsWith('.json')) continue; // config.json: data, not the bundle
    const r = await fetch(`${d.base}${p}`);
    const body = Buffer.from(await r.arrayBuffer());
    const type = r.headers.get('content-type') || '';
    if (!/html|javascript|css/.test(type)) continue;
    const gz = zlib.gzipSync(body, { level: 9 }).length;
    const isChart = CHART.test(p);
    if (isChart) chart += gz;
    else own += gz;
    lines.push(`#   ${p.padEnd(40)} ${String(body.length).padStart(8)} B raw ${String(gz).padStart(7)} B gzip${isChart ? '  (chart library, not counted)' : ''}`);
  }
  console.log(lines.join('\n'));
  t.check(urls.size > 1, `the files of /ui (${urls.size} paths)`);
  console.log(`# measurement: the UI's own HTML+JS+CSS gzipped: ${own} bytes (${(own / 1024).toFixed(1)} KiB); chart library ${chart} bytes`);
  t.check(own <= LIMIT, `measurement: the UI's bundle gzipped is ${(own / 1024).toFixed(1)} KiB <= 150 KiB without the chart library`);
});
