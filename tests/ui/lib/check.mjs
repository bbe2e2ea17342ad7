// Test bookkeeping, as tests/e2e/lib.sh does it: "ok - ..." lines, "FAIL -
// ..." on stderr, and the closing line "N passed, N failed" that CTest's
// log and CI read; the exit status is non-zero when anything failed.
export class Checks {
  constructor(name) {
    this.name = name;
    this.passed = 0;
    this.failed = 0;
    this.cleanups = [];
  }
  ok(what) {
    this.passed++;
    console.log(`ok - ${what}`);
  }
  fail(what, detail) {
    this.failed++;
    console.error(`FAIL - ${what}${detail ? `\n  ${String(detail).slice(0, 2000)}` : ''}`);
  }
  check(cond, what, detail) {
    if (cond) this.ok(what);
    else this.fail(what, detail);
    return !!cond;
  }
  // step(WHAT, async fn): runs fn; an exception is one failure named WHAT
  // (the test goes on with the next step). Returns fn's value or undefined.
  async step(what, fn) {
    try {
      return await fn();
    } catch (e) {
      this.fail(what, e && e.stack ? e.stack : e);
      return undefined;
    }
  }
  onDone(fn) {
    this.cleanups.unshift(fn);
  }
  async done() {
    for (const fn of this.cleanups) {
      try {
        await fn(this);
      } catch (e) {
        this.fail('cleanup', e && e.stack ? e.stack : e);
      }
    }
    this.cleanups = [];
    console.log(`${this.passed} passed, ${this.failed} failed`);
    process.exit(this.failed === 0 && this.passed > 0 ? 0 : 1);
  }
}

// run(NAME, async (t) => {...}): the test's body; an uncaught error fails it,
// and the cleanups (daemon, browser) always run.
export async function run(name, body) {
  const t = new Checks(name);
  const guard = setTimeout(() => {
    t.fail(`${name}: still running after ${process.env.DBB_UI_TIMEOUT || 540} s, giving up`);
    t.done();
  }, 1000 * Number(process.env.DBB_UI_TIMEOUT || 540));
  guard.unref();
  try {
    await body(t);
  } catch (e) {
    t.fail(`${name}: uncaught error`, e && e.stack ? e.stack : e);
  }
  await t.done();
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// waitFor(fn, {timeout, interval, what}): polls fn until it returns a truthy
// value, which it returns; throws after timeout ms.
export async function waitFor(fn, { timeout = 30000, interval = 100, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last})`);
    await sleep(interval);
  }
}
