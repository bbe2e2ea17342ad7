// ui.upload: upload a backup file and restore it, through the upload view:
// the upload's own progress bar moves (the browser's upload is throttled
// through the DevTools protocol so it takes a few seconds on loopback), the
// same confirmation dialog, then the restore job to "succeeded" and the data
// back.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { run, waitFor } from './lib/check.mjs';
import { expectClean, axe } from './lib/browser.mjs';
import { sqliteSum } from './lib/daemon.mjs';
import { setup } from './lib/setup.mjs';
import * as ui from './lib/ui.mjs';

run('ui.upload', async (t) => {
  const { d, page } = await setup(t, { role: 'operator', daemon: { rows: 2000 } });
  const db = d.dbs.app;
  const r = await d.api('POST', '/backup/create?compress=true&target=app', 'operator');
  t.check(r.status === 200, 'a backup of app to upload', r.text);
  const name = r.json.filename;
  const original = sqliteSum(db);
  // the file as a user would have it: downloaded
  const dl = await fetch(`${d.base}/backup/download/${name}?target=app`, { headers: { Authorization: `Bearer ${d.token('viewer')}` } });
  const file = path.join(d.work, `upload-${name}`);
  fs.writeFileSync(file, Buffer.from(await dl.arrayBuffer()));
  const size = fs.statSync(file).size;
  t.check(dl.status === 200 && size > 0, `downloaded ${name} (${size} bytes)`);
  execFileSync('sqlite3', [db, 'DELETE FROM orders; CREATE TABLE added_later (x);']);

  await ui.go(page, 'upload');
  if (await ui.exists(page, '#upload-target')) await page.select('#upload-target', 'app');
  const input = await page.$('#upload-file');
  await input.uploadFile(file);
  await page.waitForFunction(() => !document.getElementById('upload-submit').disabled, { timeout: 5000 });
  t.ok('choosing a file enables #upload-submit');

  // record every value the upload progress bar takes
  await page.evaluate(() => {
    window.__uploadValues = [];
    const p = document.getElementById('upload-progress');
    const rec = () => {
      const v = `${Math.round(p.value)}/${Math.round(p.max)}`;
      if (window.__uploadValues[window.__uploadValues.length - 1] !== v) window.__uploadValues.push(v);
    };
    new MutationObserver(rec).observe(p, { attributes: true });
    window.__uploadTimer = setInterval(rec, 10);
  });
  // about 3 s of upload at this rate
  const cdp = await page.createCDPSession();
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: Math.max(4096, Math.floor(size / 3)),
  });

  await page.click('#upload-submit');
  await ui.dialogOpen(page, 'restore-dialog');
  t.check(await page.$eval('#restore-submit', (b) => b.disabled), 'the restore dialog asks for the name first');
  await page.type('#restore-confirm', 'app');
  await page.waitForFunction(() => !document.getElementById('restore-submit').disabled, { timeout: 5000 });
  const known = await ui.jobIds(page);
  await page.click('#restore-submit');
  await ui.dialogClosed(page, 'restore-dialog');
  await waitFor(
    async () => page.evaluate(() => {
      const p = document.getElementById('upload-progress');
      return p.max > 0 && p.value >= p.max;
    }),
    { what: 'the upload progress bar full', timeout: 60000 },
  );
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  const values = await page.evaluate(() => {
    clearInterval(window.__uploadTimer);
    return window.__uploadValues;
  });
  const partial = values.filter((v) => {
    const [a, b] = v.split('/').map(Number);
    return a > 0 && a < b;
  });
  t.check(partial.length >= 2, `the upload progress bar moved through intermediate values (${values.slice(0, 12).join(' ')}${values.length > 12 ? ' ...' : ''})`);
  const w = await ui.watchNewJob(page, known, { timeout: 120000 });
  t.check(w.final === 'succeeded', `the restore-upload job succeeded (${w.seen.join(' -> ')})`);
  const job = await d.api('GET', `/jobs/${w.id}`, 'operator');
  t.check(job.json && job.json.kind === 'restore-upload', `the job is a restore-upload (${job.json && job.json.kind})`);
  t.check(sqliteSum(db) === original, 'the app database is back as in the uploaded backup');
  await axe(t, page, 'on the upload view after the upload');
  expectClean(t, page, 'during the upload and restore');
});
