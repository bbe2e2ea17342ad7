// ui.views: every view of the dashboard at 1280x800 and at a phone's
// 390x844: axe-core finds no serious or critical violation, the page logs no
// console error, and a screenshot of each (sign-in, overview, backups, a
// running job, the restore dialog, upload, retention) goes to the build
// directory (DBB_UI_ARTIFACTS; `cmake --build build --target ui-screenshots`
// copies them into docs/ui/).
import { run, waitFor } from './lib/check.mjs';
import { expectClean, axe, screenshot, newPage, DESKTOP, PHONE } from './lib/browser.mjs';
import { startDaemon, bigDbMaker } from './lib/setup.mjs';
import { launch } from './lib/browser.mjs';
import * as ui from './lib/ui.mjs';

run('ui.views', async (t) => {
  const d = await startDaemon(t, {
    targets: { shop: { make: bigDbMaker(40), lines: ['GZIP_LEVEL=9', 'KEEP_LAST=1'] } },
    env: { COMPRESS_THREADS: '1', KEEP_LAST: '2' },
  });
  for (let i = 0; i < 3; i++) {
    const r = await d.api('POST', '/backup/create?compress=true&target=app', 'operator');
    t.check(r.status === 200, `backup ${i + 1} of app`, r.text);
  }
  const v = await d.api('POST', `/backup/verify/${(await d.api('GET', '/backup/list?target=app', 'viewer')).json.backups[0].filename}?target=app`, 'operator');
  t.check(v.status === 200, 'the newest app backup verified');
  const browser = await launch(t, d.work);

  for (const vp of [DESKTOP, PHONE]) {
    const at = `at ${vp.width}x${vp.height}`;
    await t.step(`views ${at}`, async () => {
      const page = await newPage(browser, t, vp);
      await ui.openUi(page, d.base);
      await axe(t, page, `on the sign-in view ${at}`);
      await screenshot(t, page, 'signin');
      await ui.signInWithToken(page, d.token('admin'));

      await ui.overviewLoaded(page);
      await axe(t, page, `on the overview ${at}`);
      await screenshot(t, page, 'overview');
      expectClean(t, page, `on sign-in and overview ${at}`);

      await ui.go(page, 'backups');
      await ui.backupsLoaded(page, 'app');
      await axe(t, page, `on the backups view ${at}`);
      await screenshot(t, page, 'backups');

      if (vp === DESKTOP) {
        // filter, location filter and sort
        const all = await ui.rowFiles(page);
        t.check(all.length === 3, `three backups of app listed (${all.length})`);
        const one = all[1];
        await page.type('#backup-filter', one.slice(-12));
        await waitFor(async () => (await ui.rowFiles(page)).join() === one, { what: `the filter to leave ${one}`, timeout: 5000 });
        t.ok('#backup-filter narrows the table to the matching file');
        await page.$eval('#backup-filter', (i) => {
          i.value = '';
          i.dispatchEvent(new Event('input', { bubbles: true }));
        });
        await waitFor(async () => (await ui.rowFiles(page)).length === 3, { what: 'all rows back', timeout: 5000 });
        await page.select('#location-filter', 'remote');
        await waitFor(async () => (await ui.rowFiles(page)).length === 0, { what: 'no remote rows', timeout: 5000 });
        t.ok('location "remote" shows nothing (no offsite copies here)');
        await page.select('#location-filter', 'local');
        await waitFor(async () => (await ui.rowFiles(page)).length === 3, { what: 'the local rows', timeout: 5000 });
        t.ok('location "local" shows the three');
        await page.select('#location-filter', 'all');
        const sortBtn = await page.$('#backups-table thead button[data-key="filename"], #backups-table thead th:nth-child(1) button');
        if (sortBtn) {
          const asc = [...all].sort();
          const desc = [...asc].reverse();
          await sortBtn.click();
          const o1 = await waitFor(async () => {
            const r = (await ui.rowFiles(page)).join();
            return r === asc.join() ? 'ascending' : r === desc.join() ? 'descending' : null;
          }, { what: 'the rows sorted by file name', timeout: 5000 });
          await sortBtn.click();
          const o2 = await waitFor(async () => {
            const r = (await ui.rowFiles(page)).join();
            return r === (o1 === 'ascending' ? desc : asc).join() ? 'reversed' : null;
          }, { what: 'the order reversed', timeout: 5000 });
          const aria = await page.$eval('#backups-table thead th:has(button[data-key="filename"])', (th) => th.getAttribute('aria-sort')).catch(() => null);
          t.ok(`the File header sorts the table (${o1}, then ${o2}; aria-sort=${aria})`);
        } else {
          t.fail('a sort button in the File column header');
        }
      }
      const file = (await ui.rowFiles(page))[0];
      await page.click(`#backups-table tr[data-file="${file}"] button[data-action="restore"]`);
      await ui.dialogOpen(page, 'restore-dialog');
      const focus = await page.evaluate(() => (document.activeElement && document.getElementById('restore-dialog').contains(document.activeElement) ? document.activeElement.id || document.activeElement.tagName : null));
      t.check(focus !== null, `opening the restore dialog moves the keyboard focus into it (${focus}) ${at}`);
      await page.type('#restore-confirm', 'app');
      await axe(t, page, `on the restore dialog ${at}`);
      await screenshot(t, page, 'restore-dialog');
      await page.keyboard.press('Escape');
      await ui.dialogClosed(page, 'restore-dialog');
      t.ok(`Escape closes the restore dialog ${at}`);
      expectClean(t, page, `on backups and the restore dialog ${at}`);

      // a running job: shop's backup takes seconds
      await ui.backupsLoaded(page, 'shop');
      const known = await ui.jobIds(page);
      await page.click('#create-backup');
      const w = await ui.watchNewJob(page, known, {
        timeout: 180000,
        onRunning: async (j) => {
          await page.$eval(`#jobs [data-job-id="${j.id}"]`, (e) => e.scrollIntoView({ block: 'center' }));
          // a picture with bytes moving, when they do within 3 s
          await page
            .waitForFunction((id) => {
              const p = document.querySelector(`#jobs [data-job-id="${id}"] progress`);
              return p && p.value > 0;
            }, { timeout: 3000, polling: 50 }, j.id)
            .catch(() => {});
          await screenshot(t, page, 'job-running');
          await axe(t, page, `with a running job ${at}`);
        },
      });
      t.check(w.seen.includes('running') && w.final === 'succeeded', `the job was seen running and ended succeeded ${at} (${w.seen.join(' -> ')})`);
      await page.evaluate(() => window.scrollTo(0, 0));

      await ui.go(page, 'upload');
      await axe(t, page, `on the upload view ${at}`);
      await screenshot(t, page, 'upload');

      await ui.go(page, 'retention');
      if (await ui.exists(page, '#prune-target')) await page.select('#prune-target', 'app');
      await page.click('#prune-preview');
      await page.waitForSelector('#prune-table tbody tr[data-decision="delete"]', { timeout: 30000 });
      await axe(t, page, `on the retention view ${at}`);
      await screenshot(t, page, 'retention');

      // nothing wider than the viewport: usable at this width
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      t.check(overflow <= 0, `no horizontal scrolling of the page ${at} (${overflow} px too wide)`);
      // keyboard: Tab from the top reaches the navigation
      await page.evaluate(() => document.activeElement && document.activeElement.blur());
      const reached = await waitFor(
        async () => {
          await page.keyboard.press('Tab');
          return page.evaluate(() => (document.activeElement && document.activeElement.id.startsWith('nav-') ? document.activeElement.id : null));
        },
        { timeout: 5000, interval: 0, what: 'Tab to reach the navigation' },
      );
      t.ok(`the keyboard reaches the navigation (${reached}) ${at}`);
      expectClean(t, page, `on the other views ${at}`);
      await page.close();
    });
  }
});
