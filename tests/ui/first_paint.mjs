// ui.first_paint (a measurement): first contentful paint of /ui on loopback
// must be under 300 ms (issue 21). Each sample loads /ui/ with the HTTP cache
// disabled (every file fetched from the daemon again) in the same tab, so
// the sample is the page's cost, not Chromium starting a renderer process;
// one warm-up load, then the median of 7 is judged, all are printed. Also printed, not judged: the layout shift of the
// overview when its data arrives (CLS).
import os from 'node:os';
import { run } from './lib/check.mjs';
import { startDaemon } from './lib/setup.mjs';
import { launch, DESKTOP } from './lib/browser.mjs';
import * as ui from './lib/ui.mjs';

const LIMIT_MS = 300;

run('ui.first_paint', async (t) => {
  const d = await startDaemon(t);
  const browser = await launch(t, d.work);
  const samples = [];
  const ctx = await browser.createBrowserContext();
  const page = await ctx.newPage();
  await page.setViewport(DESKTOP);
  await page.setCacheEnabled(false);
  const N = 8;
  for (let i = 0; i < N; i++) {
    await page.goto(`${d.base}/ui/config.json`);
    await page.goto(`${d.base}/ui/`, { waitUntil: 'load' });
    const fp = await page.waitForFunction(
      () => {
        const e = performance.getEntriesByName('first-contentful-paint')[0] || performance.getEntriesByName('first-paint')[0];
        return e ? { name: e.name, ms: e.startTime } : null;
      },
      { timeout: 10000 },
    );
    const v = await fp.jsonValue();
    if (i > 0) samples.push(v.ms);
    console.log(`# sample ${i}${i === 0 ? ' (warm-up)' : ''}: ${v.name} ${v.ms.toFixed(1)} ms`);
    if (i === N - 1) {
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
    }
  }
  await ctx.close();
  samples.sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)];
  console.log(`# load average while measuring: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  t.check(median < LIMIT_MS, `measurement: first paint of /ui on loopback, median of ${samples.length}: ${median.toFixed(1)} ms < ${LIMIT_MS} ms (all: ${samples.map((s) => s.toFixed(0)).join(', ')})`);
});
