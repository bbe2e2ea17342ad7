// ui.viewer: a viewer sees the dashboard without any mutating button, and
// the API refuses the mutations anyway (a fetch from the page with the
// viewer's token, and from outside the browser): 403 each time.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { run } from './lib/check.mjs';
import { expectClean, newPage } from './lib/browser.mjs';
import { setup } from './lib/setup.mjs';
import * as ui from './lib/ui.mjs';

run('ui.viewer', async (t) => {
  const { d, browser, page } = await setup(t, { role: 'viewer' });
  // backups to list, made through the API by an operator
  for (const target of ['app', 'shop']) {
    const r = await d.api('POST', `/backup/create?compress=true&target=${target}`, 'operator');
    t.check(r.status === 200, `an operator made a backup of ${target}`, r.text);
  }
  const file = (await d.api('GET', '/backup/list?target=app', 'viewer')).json.backups[0].filename;

  t.check((await ui.text(page, '#user-role')) === 'viewer', 'the header shows the role viewer');
  await ui.overviewLoaded(page);
  const cards = await page.$$eval('[data-testid="target-card"]', (cs) => cs.length);
  t.check(cards === 2, `a viewer sees both targets on the overview (${cards})`);

  await ui.go(page, 'backups');
  await ui.backupsLoaded(page, 'app');
  t.check(!(await ui.exists(page, '#create-backup')), 'no #create-backup for a viewer');
  const rows = await ui.rowFiles(page);
  t.check(rows.includes(file), `the viewer sees the backup ${file}`);
  const acts = await page.$$eval('#backups-table button[data-action]', (bs) => [...new Set(bs.map((b) => b.dataset.action))]);
  t.check(acts.length === 1 && acts[0] === 'download', `rows offer download only (${acts})`);

  await ui.go(page, 'upload');
  const upload = await page.$eval('#upload-submit', (b) => !b.disabled && !b.closest('[hidden]')).catch(() => false);
  t.check(!upload, 'no usable upload-and-restore button for a viewer');
  await ui.go(page, 'retention');
  t.check(!(await ui.exists(page, '#prune-submit')), 'no #prune-submit for a viewer');

  // every button left on every view is a non-mutating one
  const buttons = await page.$$eval('button:not([disabled])', (bs) =>
    bs.filter((b) => !b.closest('[hidden]') && !b.closest('dialog:not([open])')).map((b) => b.id || b.dataset.action || b.textContent.trim()),
  );
  const mutating = buttons.filter((b) => /create|restore|delete|prune-submit|upload-submit|verify|cancel/i.test(b) && b !== 'prune-preview');
  t.check(mutating.length === 0, `no mutating button anywhere for a viewer (${buttons.join(', ')})`, mutating.join(', '));
  expectClean(t, page, 'as viewer');

  // the API refuses them anyway: from a page of the same origin, with the
  // viewer's token (the browser's own answers, not collected as errors)
  const probe = await newPage(browser, t);
  probe.quiet = true;
  await probe.goto(`${d.base}/ui/config.json`);
  const tok = d.token('viewer');
  const calls = [
    ['POST', '/backup/create?compress=true&target=app'],
    ['POST', '/backup/create?compress=true&target=shop&async=true'],
    ['POST', `/backup/verify/${file}?target=app`],
    ['POST', `/backup/restore/${file}?target=app`],
    ['DELETE', `/backup/delete/${file}?target=app`],
    ['POST', '/backup/prune?target=app'],
  ];
  const res = await probe.evaluate(
    async (calls, tok) =>
      Promise.all(
        calls.map(([m, p]) =>
          fetch(p, { method: m, headers: { Authorization: `Bearer ${tok}` } }).then(async (r) => [m, p, r.status, (await r.json()).error]),
        ),
      ),
    calls,
    tok,
  );
  for (const [m, p, status, err] of res) t.check(status === 403 && err === 'forbidden', `from the page: ${m} ${p} as viewer -> 403 forbidden (${status} ${err})`);
  // and with curl, outside the browser (the token in a 0600 header file,
  // not on the command line)
  const hdr = path.join(d.work, 'viewer.header');
  fs.writeFileSync(hdr, `Authorization: Bearer ${tok}\n`, { mode: 0o600 });
  const bogus = path.join(d.work, 'bogus.db');
  fs.writeFileSync(bogus, 'not a backup');
  const curl = (m, p, ...extra) =>
    execFileSync('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-X', m, '-H', `@${hdr}`, ...extra, `${d.base}${p}`]).toString();
  for (const [m, p] of calls) {
    const st = curl(m, p);
    t.check(st === '403', `curl: ${m} ${p} as viewer -> 403 (${st})`);
  }
  const up = curl('POST', '/backup/restore-upload?target=app', '-F', `file=@${bogus}`);
  t.check(up === '403', `curl: POST /backup/restore-upload as viewer -> 403 (${up})`);
  const still = await d.api('GET', '/backup/list?target=app', 'viewer');
  t.check(still.json.backups.some((b) => b.filename === file), 'the backup is still there');
});
