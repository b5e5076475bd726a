// Shared by the interoperability tests: a real gateway process on a free port, the test
// configuration, and small promise helpers (timeouts, an event inbox).

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '..', '..');

export const REALM = 'telegraphy';
export const BACKEND_ID = 'backend-1';
export const BACKEND_SECRET = 'backend-secret-0123456789abcdef';

export const DEFAULT_CONFIG = `
realm = "${REALM}"
public = ["telegraphy.public.news", { uri = "telegraphy.public.", match = "prefix" }]

[[backends]]
authid = "${BACKEND_ID}"
secret = "${BACKEND_SECRET}"

[limits]
hello_timeout = 2.0
shutdown_timeout = 2.0
`;

/** Milliseconds any single expected thing (a join, an event, a result) may take. */
export const STEP_TIMEOUT = 5000;

const START_TIMEOUT = 20000;

/**
 * Import an npm dependency, failing with what to install when it is missing: a missing
 * dependency must fail the run loudly, never skip it.
 */
export async function requireDependency(name) {
  try {
    return await import(name);
  } catch (e) {
    if (e && e.code === 'ERR_MODULE_NOT_FOUND') {
      throw new Error(
        `npm package '${name}' is not installed: run \`make bootstrap\` from the repository ` +
          `root (or \`cd tests/js && npm ci\`)`,
        { cause: e },
      );
    }
    throw e;
  }
}

function pythonPath() {
  const python = process.env.TELEGRAPHY_PYTHON || join(REPO_ROOT, '.venv', 'bin', 'python');
  if (!existsSync(python)) {
    throw new Error(
      `no Python at ${python} to run the gateway: run \`make bootstrap\` from the repository ` +
        'root (it creates .venv with telegraphy-gateway installed), or set TELEGRAPHY_PYTHON ' +
        'to a Python that has telegraphy-gateway installed',
    );
  }
  return python;
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

export class TimeoutError extends Error {}

/** Reject with a message naming `what` unless `promise` settles within `ms`. */
export function within(promise, what, ms = STEP_TIMEOUT) {
  let timer;
  const timeout = new Promise((_, reject) => {
    const message = `timed out after ${ms} ms waiting for ${what}`;
    timer = setTimeout(() => reject(new TimeoutError(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Collects values pushed by a callback; `next()` waits for the next one. */
export class Inbox {
  #items = [];
  #waiters = [];

  push = (item) => {
    const waiter = this.#waiters.shift();
    if (waiter) waiter(item);
    else this.#items.push(item);
  };

  next(what = 'an event', ms = STEP_TIMEOUT) {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift());
    return within(new Promise((r) => this.#waiters.push(r)), what, ms);
  }

  get pending() {
    return this.#items.length;
  }
}

/** A running gateway: `url` is its WebSocket endpoint; `stop()` ends the process. */
export class Gateway {
  constructor(child, port, dir) {
    this.child = child;
    this.port = port;
    this.url = `ws://127.0.0.1:${port}/ws`;
    this.httpUrl = `http://127.0.0.1:${port}`;
    this.dir = dir;
    this.log = [];
    this.exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
    const collect = (chunk) => this.log.push(chunk.toString());
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
  }

  output() {
    return this.log.join('');
  }

  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      try {
        await within(this.exited, 'the gateway to exit after SIGTERM', 10000);
      } catch {
        this.child.kill('SIGKILL');
        await this.exited;
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function healthy(gateway) {
  try {
    const response = await fetch(`${gateway.httpUrl}/health`, {
      signal: AbortSignal.timeout(1000),
    });
    return response.status === 200;
  } catch {
    return false; // not listening yet
  }
}

/**
 * Start a gateway with `config` (TOML) on `port` (default: a free one) and wait until /health
 * answers 200. A fixed port lets a test restart a gateway where its clients reconnect.
 */
export async function startGateway(config = DEFAULT_CONFIG, port = null) {
  const python = pythonPath();
  const dir = mkdtempSync(join(tmpdir(), 'telegraphy-js-'));
  const configPath = join(dir, 'telegraphy.toml');
  writeFileSync(configPath, config);
  port ??= await freePort();
  const child = spawn(
    python,
    ['-m', 'telegraphy.gateway', '--config', configPath, '--port', String(port)],
    // In its own directory: the SQLite engine's file goes there, not into the repository.
    { cwd: dir, env: { ...process.env, PYTHONUNBUFFERED: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const gateway = new Gateway(child, port, dir);
  const spawnFailed = new Promise((r) => child.once('error', r));
  const deadline = Date.now() + START_TIMEOUT;
  while (Date.now() < deadline) {
    const exited = child.exitCode !== null || child.signalCode !== null;
    const failed = await Promise.race([spawnFailed, Promise.resolve(null)]);
    if (exited || failed) {
      await gateway.stop();
      throw new Error(
        `gateway did not start (${failed ? failed.message : `exit ${child.exitCode}`}); ` +
          `is telegraphy-gateway installed for ${python}? Output:\n${gateway.output()}`,
      );
    }
    if (await healthy(gateway)) return gateway;
    await delay(50); // polling a starting process; not test synchronisation
  }
  await gateway.stop();
  throw new Error(`gateway did not become healthy in ${START_TIMEOUT} ms:\n${gateway.output()}`);
}

/** Assert that `promise` rejects, and return what it rejected with. */
export async function rejection(promise, what) {
  let outcome;
  try {
    outcome = await within(promise, what);
  } catch (e) {
    if (e instanceof TimeoutError) throw e;
    return e;
  }
  throw new Error(`expected ${what} to fail, it succeeded with ${JSON.stringify(outcome)}`);
}
