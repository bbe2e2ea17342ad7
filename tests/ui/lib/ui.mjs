// The dashboard's DOM contract (/work UI_CONTRACT: ids and data attributes)
// as helpers: sign in, go to a view, wait for data, read jobs.
import { waitFor } from './check.mjs';

export const VIEWS = ['overview', 'backups', 'upload', 'retention'];

// open(page, base): /ui and its sign-in view.
export async function openUi(page, base) {
  const r = await page.goto(`${base}/ui/`, { waitUntil: 'load' });
  await page.waitForSelector('#signin', { visible: true });
  return r;
}

// signInWithToken(page, token): pastes the token, submits, waits for the
// header's user name.
export async function signInWithToken(page, token) {
  await page.waitForSelector('#token-input', { visible: true });
  // pasting: set the value at once (typing 800 characters is slow) and fire input
  await page.$eval(
    '#token-input',
    (el, v) => {
      el.focus();
      el.value = v;
      el.dispatchEvent(new Event('input', { bubbles: true }));
    },
    token,
  );
  await page.click('#token-submit');
  await page.waitForSelector('#user-name', { visible: true });
  await waitFor(async () => (await text(page, '#user-name')).length > 0, { what: '#user-name filled' });
}

export async function text(page, sel) {
  return page.$eval(sel, (el) => el.textContent.trim()).catch(() => '');
}

export async function exists(page, sel) {
  return (await page.$(sel)) !== null;
}

// visible(page, sel): present, not hidden, rendered with a size.
export async function visible(page, sel) {
  return page
    .$eval(sel, (el) => {
      if (el.closest('[hidden]')) return false;
      const r = el.getBoundingClientRect();
      const s = getComputedStyle(el);
      return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
    })
    .catch(() => false);
}

// go(page, VIEW): clicks #nav-VIEW and waits until #view-VIEW shows and
// the others are hidden.
export async function go(page, view) {
  await page.click(`#nav-${view}`);
  await page.waitForFunction(
    (v, all) =>
      all.every((o) => {
        const el = document.getElementById(`view-${o}`);
        return el && (o === v ? !el.hidden : el.hidden);
      }),
    { timeout: 15000 },
    view,
    VIEWS,
  );
}

export async function overviewLoaded(page) {
  await page.waitForSelector('#view-overview[data-loaded="true"]', { timeout: 30000 });
}

// backupsLoaded(page[, target]): selects the target (if given) and waits for
// the table's data-loaded="true".
export async function backupsLoaded(page, target) {
  if (target) {
    const cur = await page.$eval('#target-select', (s) => s.value);
    if (cur !== target) {
      await page.select('#target-select', target);
    }
  }
  await page.waitForSelector('#backups-table[data-loaded="true"]', { timeout: 30000 });
}

export async function rowFiles(page) {
  return page.$$eval('#backups-table tbody tr[data-file]', (rows) => rows.map((r) => r.dataset.file));
}

export async function rowActions(page, file) {
  return page.$$eval(`#backups-table tbody tr[data-file="${file}"] button[data-action]`, (bs) =>
    bs.map((b) => b.dataset.action),
  );
}

// jobs(page): [{id, status, progress: {value,max}|null, cancel}] from #jobs.
export async function jobs(page) {
  return page.$$eval('#jobs [data-job-id]', (els) =>
    els.map((e) => {
      const p = e.querySelector('progress');
      return {
        id: e.dataset.jobId,
        status: e.dataset.status,
        progress: p ? { value: p.value, max: p.max, indeterminate: !p.hasAttribute('value') } : null,
        cancel: !!e.querySelector('button[data-action="cancel"]'),
      };
    }),
  );
}

// watchNewJob(page, knownIds, t, {timeout}): waits for a job not in knownIds,
// then polls its data-status to the end; returns {id, seen: [statuses],
// progressSeen, final}.
export async function watchNewJob(page, known, { timeout = 120000, onRunning } = {}) {
  const job = await waitFor(async () => (await jobs(page)).find((j) => !known.includes(j.id)), {
    timeout: 30000,
    what: 'a new job in #jobs',
  });
  const seen = [job.status];
  let progressSeen = !!job.progress;
  let runningHook = false;
  const final = await waitFor(
    async () => {
      const j = (await jobs(page)).find((x) => x.id === job.id);
      if (!j) return null;
      if (seen[seen.length - 1] !== j.status) seen.push(j.status);
      if (j.progress) progressSeen = true;
      if (j.status === 'running' && onRunning && !runningHook) {
        runningHook = true;
        await onRunning(j);
      }
      return ['succeeded', 'failed', 'cancelled'].includes(j.status) ? j.status : null;
    },
    { timeout, interval: 50, what: `job ${job.id} to end` },
  );
  return { id: job.id, seen, progressSeen, final };
}

export async function jobIds(page) {
  return (await jobs(page)).map((j) => j.id);
}

// dialogOpen(page, id): the <dialog> is open (modal).
export async function dialogOpen(page, id) {
  await page.waitForFunction((i) => document.getElementById(i) && document.getElementById(i).open, { timeout: 15000 }, id);
}

export async function dialogClosed(page, id) {
  await page.waitForFunction((i) => !document.getElementById(i) || !document.getElementById(i).open, { timeout: 15000 }, id);
}
