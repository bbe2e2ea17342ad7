// The common start of a dashboard test: the daemon (two SQLite targets, dev
// keys), Chromium, a page signed in with a pasted token of ROLE.
import { execFileSync } from 'node:child_process';
import { Daemon } from './daemon.mjs';
import { launch, newPage, DESKTOP } from './browser.mjs';
import { openUi, signInWithToken } from './ui.mjs';

export async function startDaemon(t, opts = {}) {
  const d = new Daemon(opts);
  t.onDone((tt) => d.cleanup(tt));
  await d.start();
  t.ok(`daemon on ${d.base}, targets ${d.targetNames.join(', ')}`);
  const ui = await fetch(`${d.base}/ui/`);
  if (ui.status !== 200) throw new Error(`GET /ui/ answers ${ui.status}: the dashboard is not built into this daemon`);
  return d;
}

// signedIn(t, d, browser, ROLE[, viewport]): a new page on /ui signed in as ROLE.
export async function signedIn(t, d, browser, role, viewport = DESKTOP) {
  const page = await newPage(browser, t, viewport);
  await openUi(page, d.base);
  await signInWithToken(page, d.token(role));
  return page;
}

export async function setup(t, { daemon = {}, role = 'admin', viewport = DESKTOP } = {}) {
  const d = await startDaemon(t, daemon);
  const browser = await launch(t, d.work);
  const page = await signedIn(t, d, browser, role, viewport);
  return { d, browser, page };
}

// bigDb(BYTES_MIB): a maker for a target whose compressed backup takes a
// few seconds (random blobs, gzip level 9, one thread), so a running job
// can be seen, screenshot and cancelled.
export function bigDbMaker(mib = 40) {
  return (file) => {
    execFileSync('sqlite3', [
      file,
      `CREATE TABLE big(id INTEGER PRIMARY KEY, b BLOB);
       WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${mib})
       INSERT INTO big(b) SELECT randomblob(1048576) FROM n;`,
    ]);
  };
}
