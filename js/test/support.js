// Test support: the repository's gateway runner (tests/js/gateway.js), the signed ingress to
// publish events as a web application would, and tokens minted by telegraphy-core.

import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { within as withinStep } from '../../tests/js/gateway.js';

export { Inbox, STEP_TIMEOUT, startGateway, TimeoutError, within } from '../../tests/js/gateway.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const JS_ROOT = resolve(HERE, '..');
const REPO_ROOT = resolve(JS_ROOT, '..');
const PYTHON = process.env.TELEGRAPHY_PYTHON || join(REPO_ROOT, '.venv', 'bin', 'python');

export const SECRET = 'js-client-test-secret-0123456789';

/** Anonymous sessions may read events under `public.`; tokens grant the rest. History and
 * client records in memory: no file in the working directory, nothing kept across restarts. */
export const CONFIG = `
realm = "telegraphy"
secret = "${SECRET}"
public = [{ uri = "telegraphy.event.public.", match = "prefix" }]

[engine]
kind = "memory"

[limits]
hello_timeout = 2.0
shutdown_timeout = 2.0
`;

/** `ws`'s WebSocket, recording every frame the client sends (`sent`) and every socket. */
export class SpySocket extends WebSocket {
  static sockets = [];

  constructor(url, protocols) {
    super(url, protocols);
    this.sent = [];
    SpySocket.sockets.push(this);
  }

  send(data) {
    this.sent.push(JSON.parse(data));
    super.send(data);
  }

  static last() {
    return SpySocket.sockets[SpySocket.sockets.length - 1];
  }
}

/** An event envelope as the web application sends it (docs/ingress.rst). */
export function envelope(name, eventType, data) {
  const timestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const id = randomBytes(8).toString('hex');
  return { name, meta: { event_type: eventType, verbose_name: 'Model', timestamp, id }, data };
}

/** Publish events through the gateway's signed HTTP ingress; resolves when it answered 200. */
export async function publish(gateway, ...events) {
  const path = '/ingress/events';
  const body = JSON.stringify({ events });
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = randomBytes(16).toString('hex');
  const signed = `POST\n${path}\n${timestamp}\n${nonce}\n${body}`;
  const signature = createHmac('sha256', SECRET).update(signed).digest('hex');
  const response = await fetch(gateway.httpUrl + path, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'X-Telegraphy-Timestamp': timestamp,
      'X-Telegraphy-Nonce': nonce,
      'X-Telegraphy-Signature': `v1=${signature}`,
    },
    body,
  });
  if (response.status !== 200) {
    throw new Error(`ingress answered ${response.status}: ${await response.text()}`);
  }
  return events;
}

/**
 * Tokens from telegraphy.core.mint_token (the contract's format), one per grant set:
 * `mint({user: '42', events: [...], channels: [...], publish: [...], filters: {...}, info}, ...)`.
 */
export function mint(...specs) {
  const script = `
import json, sys
from telegraphy.core import Grants, mint_token
for s in json.loads(sys.argv[1]):
    grants = Grants(tuple(s.get("events", ())), tuple(s.get("channels", ())), tuple(s.get("publish", ())),
                    s.get("filters", {}))
    print(mint_token(sys.argv[2], s.get("user"), grants, ttl=s.get("ttl", 60), info=s.get("info")))
`;
  const out = execFileSync(PYTHON, ['-c', script, JSON.stringify(specs), SECRET], { encoding: 'utf8' });
  return out.trim().split('\n');
}

/** Resolves with the next `name` event of `client` (within the step timeout). */
export function next(client, name, { within: ms, what } = {}) {
  return withinStep(
    new Promise((resolveEvent) => {
      const off = client.on(name, (value) => {
        off();
        resolveEvent(value);
      });
    }),
    what ?? `the client's '${name}' event`,
    ms,
  );
}
