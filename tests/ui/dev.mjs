// ui.dev: the dashboard with dev keys and two SQLite targets ("app", the
// default, and "shop", big enough that its backup runs for seconds): sign in
// by pasting a token, the overview of both targets, a backup created and its
// job watched to "succeeded", verified, restored through the confirmation
// dialog (typing the target's name), a running job cancelled, and deleted
// as admin (an operator has no delete button). No console errors anywhere.
import { run, waitFor } from './lib/check.mjs';
import { expectClean, axe } from './lib/browser.mjs';
import { sqliteSum } from './lib/daemon.mjs';
import { setup, signedIn, bigDbMaker } from './lib/setup.mjs';
import * as ui from './lib/ui.mjs';

run('ui.dev', async (t) => {
  const { d, browser, page } = await setup(t, {
    role: 'operator',
    daemon: {
      targets: { shop: { make: bigDbMaker(40), lines: ['GZIP_LEVEL=9'] } },
      env: { COMPRESS_THREADS: '1' },
    },
  });

  // how the page follows jobs: Server-Sent Events read with fetch() and the
  // bearer header (EventSource cannot send it)
  const sse = [];
  page.on('request', (r) => {
    if (/\/jobs\/[0-9a-f]+\/events/.test(r.url())) sse.push({ type: r.resourceType(), auth: /^Bearer /.test(r.headers().authorization || '') });
  });

  // header
  t.check((await ui.text(page, '#user-role')) === 'operator', `the header shows the role operator (${await ui.text(page, '#user-role')})`);
  t.check((await ui.text(page, '#user-name')).length > 0, `the header shows the user (${await ui.text(page, '#user-name')})`);
  t.check((await ui.text(page, '#token-expiry')).length > 0, `the header shows the token's expiry (${await ui.text(page, '#token-expiry')})`);
  t.check(await ui.visible(page, '#signout'), 'a sign-out button');
  t.check(!(await ui.visible(page, '#signin')), 'the sign-in view is gone');
  const stored = await page.evaluate(() => JSON.stringify(localStorage).length + JSON.stringify(sessionStorage).length + document.cookie.length);
  t.check(stored <= 4, 'the token is in memory only: localStorage, sessionStorage and cookies are empty');

  // overview: one card per target
  await t.step('overview', async () => {
    await ui.overviewLoaded(page);
    const cards = await page.$$eval('#view-overview [data-testid="target-card"]', (cs) => cs.map((c) => c.dataset.target).sort());
    t.check(cards.join(',') === 'app,shop', `the overview has a card for app and for shop (${cards})`);
    for (const name of ['app', 'shop']) {
      const parts = await page.$eval(`[data-testid="target-card"][data-target="${name}"]`, (c) =>
        ['.health', '.last-backup', '.next-run', '.failures', '.chart'].filter((s) => !c.querySelector(s)),
      );
      t.check(parts.length === 0, `${name}'s card has health, last backup, next run, failures and a chart`, `missing: ${parts}`);
    }
    t.check(await ui.exists(page, '#view-overview #free-space'), 'free space is on the overview');
    t.check((await ui.text(page, '#free-space')).length > 0, `free space shown (${await ui.text(page, '#free-space')})`);
  });
  expectClean(t, page, 'on the overview');

  // create a backup of shop and watch the job: queued/running -> succeeded
  let shopFile;
  await t.step('create shop backup', async () => {
    await ui.go(page, 'backups');
    await ui.backupsLoaded(page, 'shop');
    t.check(await ui.visible(page, '#create-backup'), 'an operator has #create-backup');
    const before = await ui.rowFiles(page);
    const known = await ui.jobIds(page);
    await page.click('#create-backup');
    const w = await ui.watchNewJob(page, known, { timeout: 180000 });
    t.check(w.final === 'succeeded', `the create job ended succeeded (statuses seen: ${w.seen.join(' -> ')})`);
    t.check(w.seen.includes('running'), 'its status was running while it ran');
    t.check(w.progressSeen, 'the job showed a <progress>');
    const api = await d.api('GET', `/jobs/${w.id}`, 'operator');
    t.check(api.status === 200 && api.json.state === 'succeeded' && api.json.kind === 'create' && api.json.target === 'shop',
      'the API knows the job as a succeeded create of shop', api.text);
    shopFile = api.json && api.json.result && api.json.result.filename;
    await waitFor(async () => (await ui.rowFiles(page)).includes(shopFile), { what: `row ${shopFile}`, timeout: 15000 });
    t.ok(`the new backup ${shopFile} is listed (${before.length} rows before)`);
  });

  // cancel a running job
  await t.step('cancel', async () => {
    const known = await ui.jobIds(page);
    await page.click('#create-backup');
    const w = await ui.watchNewJob(page, known, {
      timeout: 180000,
      onRunning: async (j) => {
        t.check(j.cancel, 'a running job has a cancel button');
        await page.click(`#jobs [data-job-id="${j.id}"] button[data-action="cancel"]`);
      },
    });
    t.check(w.final === 'cancelled', `the cancelled job ended cancelled (${w.seen.join(' -> ')})`);
    const after = await d.api('GET', '/backup/list?target=shop', 'viewer');
    t.check(after.json.backups.length === 1, 'a cancelled backup left no file', after.text);
  });
  t.check(sse.length >= 2, `the page followed the jobs through GET /jobs/{id}/events (${sse.length} streams)`);
  t.check(sse.every((x) => x.auth && x.type !== 'eventsource'), `with fetch() and the bearer header, not EventSource (${[...new Set(sse.map((x) => x.type))]})`);
  expectClean(t, page, 'while creating and cancelling');

  // app: create, verify, restore
  let appFile;
  await t.step('create app backup', async () => {
    await ui.backupsLoaded(page, 'app');
    const known = await ui.jobIds(page);
    await page.click('#create-backup');
    const w = await ui.watchNewJob(page, known);
    t.check(w.final === 'succeeded', `app's create job succeeded (${w.seen.join(' -> ')})`);
    const list = await d.api('GET', '/backup/list?target=app', 'viewer');
    appFile = list.json.backups[0].filename;
    await waitFor(async () => (await ui.rowFiles(page)).includes(appFile), { what: `row ${appFile}`, timeout: 15000 });
    const acts = await ui.rowActions(page, appFile);
    t.check(['download', 'verify', 'restore'].every((a) => acts.includes(a)) && !acts.includes('delete'),
      `an operator's row offers download, verify, restore and no delete (${acts})`);
  });

  await t.step('verify', async () => {
    const known = await ui.jobIds(page);
    await page.click(`#backups-table tr[data-file="${appFile}"] button[data-action="verify"]`);
    const w = await ui.watchNewJob(page, known);
    t.check(w.final === 'succeeded', `the verify job succeeded (${w.seen.join(' -> ')})`);
    const list = await d.api('GET', '/backup/list?target=app', 'viewer');
    const b = list.json.backups.find((x) => x.filename === appFile);
    t.check(b && b.verify_ok === true, 'the backup is recorded verified');
    await waitFor(
      async () => /verif/i.test(await page.$eval(`#backups-table tr[data-file="${appFile}"]`, (r) => r.textContent)),
      { what: 'a verified badge in the row', timeout: 15000 },
    );
    t.ok('the row shows it verified');
  });

  await t.step('restore', async () => {
    const db = d.dbs.app;
    const original = sqliteSum(db);
    const { execFileSync } = await import('node:child_process');
    execFileSync('sqlite3', [db, 'DELETE FROM orders; CREATE TABLE added_later (x);']);
    t.check(sqliteSum(db) !== original, 'the app database was changed after the backup');
    await page.click(`#backups-table tr[data-file="${appFile}"] button[data-action="restore"]`);
    await ui.dialogOpen(page, 'restore-dialog');
    t.check(await page.$eval('#restore-submit', (b) => b.disabled), '#restore-submit is disabled before the name is typed');
    t.check(await page.$eval('#restore-safety', (c) => c.checked), 'the safety backup is checked by default');
    await page.type('#restore-confirm', 'shop');
    t.check(await page.$eval('#restore-submit', (b) => b.disabled), 'another target\'s name does not enable it');
    await page.$eval('#restore-confirm', (i) => (i.value = ''));
    await page.type('#restore-confirm', 'app');
    await page.waitForFunction(() => !document.getElementById('restore-submit').disabled, { timeout: 5000 });
    t.ok('typing "app" enables #restore-submit');
    await axe(t, page, 'on the restore dialog');
    const known = await ui.jobIds(page);
    await page.click('#restore-submit');
    await ui.dialogClosed(page, 'restore-dialog');
    const w = await ui.watchNewJob(page, known);
    t.check(w.final === 'succeeded', `the restore job succeeded (${w.seen.join(' -> ')})`);
    t.check(sqliteSum(db) === original, 'the app database is back as it was at the backup');
    const list = await d.api('GET', '/backup/list?target=app', 'viewer');
    t.check(list.json.backups.some((b) => b.filename.startsWith('safety_backup_app_')), 'a safety backup was made first');
  });
  expectClean(t, page, 'while verifying and restoring');

  // sign out: the header goes, the sign-in view comes back
  await t.step('sign out', async () => {
    await page.click('#signout');
    await page.waitForSelector('#signin', { visible: true });
    t.check(!(await ui.visible(page, '#user-name')) || (await ui.text(page, '#user-name')) === '', 'signed out: no user in the header');
  });

  // delete as admin
  await t.step('delete as admin', async () => {
    const admin = await signedIn(t, d, browser, 'admin');
    t.check((await ui.text(admin, '#user-role')) === 'admin', 'the header shows admin');
    await ui.go(admin, 'backups');
    await ui.backupsLoaded(admin, 'app');
    const acts = await ui.rowActions(admin, appFile);
    t.check(acts.includes('delete'), `an admin's row offers delete (${acts})`);
    const known = await ui.jobIds(admin);
    await admin.click(`#backups-table tr[data-file="${appFile}"] button[data-action="delete"]`);
    await ui.dialogOpen(admin, 'delete-dialog');
    await axe(t, admin, 'on the delete dialog');
    await admin.click('#delete-submit');
    await ui.dialogClosed(admin, 'delete-dialog');
    // the delete may run as a job (async) or at once
    await waitFor(async () => !(await ui.rowFiles(admin)).includes(appFile), { what: `row ${appFile} gone`, timeout: 30000 });
    const st = await ui.jobs(admin);
    const j = st.find((x) => !known.includes(x.id));
    if (j) t.check(j.status === 'succeeded' || j.status === 'running', `the delete job: ${j.status}`);
    const list = await d.api('GET', '/backup/list?target=app', 'viewer');
    t.check(!list.json.backups.some((b) => b.filename === appFile), 'the API no longer lists the deleted backup');
    expectClean(t, admin, 'as admin');
  });
});
