// ui.retention: the prune dry run shown as keep/delete rows with reasons
// (as the API's dry run says), then a confirmed prune as admin that deletes
// exactly the rows marked delete. The app target keeps its 2 newest
// (KEEP_LAST=2) of 4 backups.
import { run, waitFor, sleep } from './lib/check.mjs';
import { expectClean, axe } from './lib/browser.mjs';
import { setup } from './lib/setup.mjs';
import * as ui from './lib/ui.mjs';

run('ui.retention', async (t) => {
  const { d, page } = await setup(t, { role: 'admin', daemon: { env: { KEEP_LAST: '2' } } });
  for (let i = 0; i < 4; i++) {
    const r = await d.api('POST', '/backup/create?compress=true&target=app', 'operator');
    t.check(r.status === 200, `backup ${i + 1} of app`, r.text);
    await sleep(1100); // distinct seconds: distinct, ordered names
  }
  const dry = await d.api('POST', '/backup/prune?dry_run=true&target=app', 'operator');
  t.check(dry.status === 200 && dry.json.keep.length === 2 && dry.json.remove.length === 2, 'the API\'s dry run: keep 2, delete 2', dry.text);
  const fname = (e) => (typeof e === 'string' ? e : e.file || e.filename);
  const wantKeep = dry.json.keep.map(fname).sort();
  const wantDel = dry.json.remove.map(fname).sort();

  await ui.go(page, 'retention');
  if (await ui.exists(page, '#prune-target')) await page.select('#prune-target', 'app');
  await page.click('#prune-preview');
  await page.waitForSelector('#prune-table tbody tr[data-decision]', { timeout: 30000 });
  const rows = await page.$$eval('#prune-table tbody tr[data-file]', (rs) =>
    rs.map((r) => ({ file: r.dataset.file, decision: r.dataset.decision, text: r.textContent })),
  );
  const keep = rows.filter((r) => r.decision === 'keep').map((r) => r.file).sort();
  const del = rows.filter((r) => r.decision === 'delete').map((r) => r.file).sort();
  t.check(JSON.stringify(keep) === JSON.stringify(wantKeep), `rows marked keep are the dry run's (${keep})`);
  t.check(JSON.stringify(del) === JSON.stringify(wantDel), `rows marked delete are the dry run's (${del})`);
  const reasons = await page.$$eval('#prune-table tbody tr[data-file]', (rs) => rs.map((r) => r.lastElementChild.textContent.trim()));
  // a reason is words, not a placeholder: "would delete" says why too
  t.check(reasons.every((x) => /\p{L}{2,}/u.test(x)), `every row, keep and delete, has a reason in words (${[...new Set(reasons)].join(' | ')})`);
  const apiReasons = dry.json.keep.flatMap((e) => e.reasons || e.matches || []);
  const tableText = await page.$eval('#prune-table', (x) => x.textContent);
  t.check(apiReasons.length === 0 || apiReasons.some((r) => tableText.includes(r)), `the keep reasons are the API's (${[...new Set(apiReasons)]})`);
  await axe(t, page, 'on the retention view with the preview');
  expectClean(t, page, 'on the preview');

  // the confirmed prune (admin only)
  t.check(await ui.visible(page, '#prune-submit'), 'an admin has #prune-submit');
  const known = await ui.jobIds(page);
  await page.click('#prune-submit');
  // it confirms first: a dialog opens, nothing is deleted yet
  const dlg = await waitFor(() => page.evaluate(() => (document.querySelector('dialog[open]') || {}).id), { what: 'a confirmation dialog', timeout: 10000 });
  t.ok(`#prune-submit asks first (dialog #${dlg})`);
  const mid = await d.api('GET', '/backup/list?target=app', 'viewer');
  t.check(mid.json.backups.length === 4, 'nothing deleted before the confirmation');
  await axe(t, page, 'on the prune confirmation');
  await page.evaluate(() => {
    const d = document.querySelector('dialog[open]');
    const b = d.querySelector('#prune-confirm') || d.querySelector('button.danger') || [...d.querySelectorAll('button')].pop();
    b.click();
  });
  await ui.dialogClosed(page, dlg);
  const after = await waitFor(
    async () => {
      const l = await d.api('GET', '/backup/list?target=app', 'viewer');
      return l.json.backups.length === 2 ? l : null;
    },
    { what: 'the prune to delete 2 backups', timeout: 60000 },
  );
  const left = after.json.backups.map((b) => b.filename).sort();
  t.check(JSON.stringify(left) === JSON.stringify(wantKeep), `the prune kept exactly the rows marked keep (${left})`);
  const js = (await ui.jobs(page)).filter((j) => !known.includes(j.id));
  if (js.length) {
    await waitFor(async () => (await ui.jobs(page)).find((j) => j.id === js[0].id && j.status === 'succeeded'), { what: 'the prune job succeeded in #jobs', timeout: 30000 });
    t.ok('the prune job shows succeeded');
  }
  expectClean(t, page, 'during the prune');
});
