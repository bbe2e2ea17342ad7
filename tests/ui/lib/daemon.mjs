// The real dbbackupd for the browser tests, as tests/e2e/lib.sh starts it:
// a temporary directory under DBB_TEST_TMP, fresh dev keys (or Keycloak), a
// free loopback port (PORT=0, read back from the log), and two SQLite targets
// by default: the default target "app" (TARGET_NAME) and "shop" from
// TARGETS_DIR/shop.env (docs/targets.md).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from './check.mjs';

export const SOURCE_DIR = process.env.DBB_SOURCE_DIR || path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = process.env.DBBACKUPD;

function need(v, name) {
  if (!v) throw new Error(`${name} must be set (the CTest registration sets it)`);
  return v;
}

// demoSqlite(PATH, ROWS): setup/demo-sqlite.sh's demo database.
export function demoSqlite(file, rows = 200) {
  execFileSync('bash', [path.join(SOURCE_DIR, 'setup/demo-sqlite.sh'), '--force', file, String(rows)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export function sqliteSum(file) {
  const dump = execFileSync('sqlite3', [file, '.dump'], { maxBuffer: 1 << 28 });
  return execFileSync('sha256sum', { input: dump }).toString().split(' ')[0];
}

export class Daemon {
  // opts: targets: {name: {rows}} beyond the default one (default {shop:{}});
  // defaultName ("app"); env: more variables; keycloak: {url, realm, clientId}
  // instead of dev keys.
  constructor(opts = {}) {
    this.opts = opts;
    const tmp = process.env.DBB_TEST_TMP || '/tmp';
    fs.mkdirSync(tmp, { recursive: true });
    this.work = fs.mkdtempSync(path.join(tmp, 'ui.'));
    this.backups = path.join(this.work, 'backups');
    this.keys = path.join(this.work, 'keys');
    this.log = path.join(this.work, 'daemon.log');
    this.proc = null;
    this.base = null;
    this.failed = false;
  }

  async start() {
    need(BIN, 'DBBACKUPD');
    const o = this.opts;
    fs.mkdirSync(this.backups, { recursive: true });
    const env = { ...process.env, PORT: '0', BIND_ADDRESS: '127.0.0.1', BACKUP_DIR: this.backups };
    if (o.keycloak) {
      Object.assign(env, {
        AUTH_JWKS_FILE: '',
        KEYCLOAK_URL: o.keycloak.url,
        KEYCLOAK_REALM: o.keycloak.realm,
        KEYCLOAK_CLIENT_ID: o.keycloak.clientId,
      });
    } else {
      fs.mkdirSync(this.keys, { recursive: true });
      execFileSync(BIN, ['dev-keys', this.keys], { stdio: ['ignore', 'ignore', 'inherit'] });
      env.AUTH_JWKS_FILE = path.join(this.keys, 'jwks.json');
    }
    this.defaultName = o.defaultName || 'app';
    this.dbs = {};
    this.dbs[this.defaultName] = path.join(this.work, `${this.defaultName}.db`);
    demoSqlite(this.dbs[this.defaultName], o.rows || 200);
    Object.assign(env, { DB_TYPE: 'sqlite', SQLITE_PATH: this.dbs[this.defaultName], TARGET_NAME: this.defaultName });
    const targets = o.targets || { shop: {} };
    if (Object.keys(targets).length > 0) {
      const dir = path.join(this.work, 'targets');
      fs.mkdirSync(dir, { mode: 0o700 });
      for (const [name, t] of Object.entries(targets)) {
        this.dbs[name] = path.join(this.work, `${name}.db`);
        if (t.make) t.make(this.dbs[name]);
        else demoSqlite(this.dbs[name], t.rows || 100);
        const lines = [`DB_TYPE=sqlite`, `SQLITE_PATH=${this.dbs[name]}`, ...(t.lines || [])];
        fs.writeFileSync(path.join(dir, `${name}.env`), lines.join('\n') + '\n', { mode: 0o600 });
      }
      env.TARGETS_DIR = dir;
    }
    Object.assign(env, o.env || {});
    this.targetNames = Object.keys(this.dbs);
    const out = fs.openSync(this.log, 'a');
    this.proc = spawn(BIN, [], { env, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    this.exit = new Promise((resolve) => this.proc.on('exit', (code, sig) => resolve({ code, sig })));
    let exited = null;
    this.exit.then((e) => (exited = e));
    for (let i = 0; i < 200; i++) {
      if (exited) throw new Error(`the daemon exited during start-up (${JSON.stringify(exited)}):\n${this.logText()}`);
      const m = [...this.logText().matchAll(/listening on http:\/\/[^\s]*:(\d+)/g)].pop();
      if (m) {
        const base = `http://127.0.0.1:${m[1]}`;
        try {
          const r = await fetch(`${base}/health`);
          if (r.ok) {
            this.base = base;
            return this;
          }
        } catch {
          /* not yet */
        }
      }
      await sleep(100);
    }
    throw new Error(`the daemon did not answer /health:\n${this.logText()}`);
  }

  logText() {
    try {
      return fs.readFileSync(this.log, 'utf8');
    } catch {
      return '';
    }
  }

  // token(ROLE[, TTL]): a dev token (admin, operator, viewer), as lib.sh's.
  token(role, ttl = 900) {
    return execFileSync(BIN, ['token', '--key', path.join(this.keys, 'private.pem'), '--role', role, '--ttl', String(ttl)])
      .toString()
      .trim();
  }

  // api(METHOD, PATH, TOKEN|ROLE|null, init): {status, json, text, headers}
  async api(method, p, who, init = {}) {
    const headers = { ...(init.headers || {}) };
    if (who) headers.Authorization = `Bearer ${who.includes('.') ? who : this.token(who)}`;
    const r = await fetch(`${this.base}${p}`, { ...init, method, headers });
    const text = await r.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: r.status, json, text, headers: r.headers };
  }

  // stop(t): SIGTERM; the daemon must exit 0 with no sanitizer report.
  async stop(t) {
    if (!this.proc) return;
    const p = this.proc;
    this.proc = null;
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 60000);
    const { code, sig } = await this.exit;
    clearTimeout(timer);
    const log = this.logText();
    if (t) {
      t.check(code === 0, `the daemon exited 0 on SIGTERM (code ${code}, signal ${sig})`);
      t.check(!/AddressSanitizer|LeakSanitizer|runtime error:/.test(log), 'no sanitizer report in the daemon log',
        log.split('\n').filter((l) => /Sanitizer|runtime error/.test(l)).slice(0, 20).join('\n'));
    }
  }

  // cleanup(t): stops, then removes the work directory unless t failed.
  async cleanup(t) {
    await this.stop(t);
    if (t && t.failed > 0) {
      console.error(`--- daemon log (tail) ---\n${this.logText().split('\n').slice(-40).join('\n')}`);
      console.error(`ui: kept ${this.work} for inspection`);
    } else {
      fs.rmSync(this.work, { recursive: true, force: true });
    }
  }
}
