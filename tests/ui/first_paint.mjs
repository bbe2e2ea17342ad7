// ui.measure.first_paint (a measurement): first contentful paint of /ui on
// loopback must be under 300 ms (issue 21). A sample loads /ui/ with the HTTP
// cache disabled (every file fetched from the daemon again) in one tab, so
// it is the page's cost, not Chromium starting a renderer process. A round
// is one warm-up load and 7 samples, judged by their median. The machine is
// shared (other tests, builds): a load on it only adds time, so up to 3
// rounds are made and the best round's median is judged; every sample and
// the load average are printed. Also printed, not judged: the layout shift
// from signing in to the loaded overview (CLS).
import os from 'node:os';
import { run } from './lib/check.mjs';
import { startDaemon } from './lib/setup.mjs';
import { launch, DESKTOP } from './lib/browser.mjs';
import * as ui from './lib/ui.mjs';

const LIMIT_MS = 300;
const SAMPLES = 7;
const ROUNDS = 3;

run('ui.measure.first_paint', async (t) => {
  const d = await startDaemon(t);
  const browser = await launch(t, d.work);
  const ctx = await browser.createBrowserContext();
  const page = await ctx.newPage();
  await page.setViewport(DESKTOP);
  await page.setCacheEnabled(false);
  const load = async () => {
    await page.goto(`${d.base}/ui/config.json`);
    await page.goto(`${d.base}/ui/`, { waitUntil: 'load' });
    const fp = await page.waitForFunction(
      () => {
        const e = performance.getEntriesByName('first-contentful-paint')[0] || performance.getEntriesByName('first-paint')[0];
        return e ? { name: e.name, ms: e.startTime } : null;
      },
      { timeout: 10000 },
    );
    return fp.jsonValue();
  };
  const medians = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const w = await load();
    const samples = [];
    for (let i = 0; i < SAMPLES; i++) samples.push((await load()).ms);
    samples.sort((a, b) => a - b);
    const median = samples[Math.floor(samples.length / 2)];
    medians.push(median);
    console.log(`# round ${round}: warm-up ${w.ms.toFixed(0)} ms, ${w.name} samples ${samples.map((s) => s.toFixed(0)).join(', ')} ms; median ${median.toFixed(0)} ms; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    if (median < LIMIT_MS) break;
  }
  const best = Math.min(...medians);
  t.check(best < LIMIT_MS, `measurement: first paint of /ui on loopback: ${best.toFixed(0)} ms < ${LIMIT_MS} ms (median of ${SAMPLES}, best of ${medians.length} round(s): ${medians.map((m) => m.toFixed(0)).join(', ')})`);

  // layout shift while signing in and the overview's data arriving
  await page.evaluate(() => {
    window.__cls = 0;
    new PerformanceObserver((l) => {
      for (const e of l.getEntries()) window.__cls += e.value;
    }).observe({ type: 'layout-shift', buffered: true });
  });
  await ui.signInWithToken(page, d.token('admin'));
  await ui.overviewLoaded(page);
  await new Promise((r) => setTimeout(r, 500));
  const cls = await page.evaluate(() => window.__cls);
  console.log(`# measurement (not judged): layout shift (CLS sum, inputs included) from sign-in to the loaded overview: ${cls.toFixed(4)}`);
  await ctx.close();
});
