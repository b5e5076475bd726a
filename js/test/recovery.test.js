// Nothing lost, against a real gateway process: positions sent on resume, missed events
// replayed in order and reported, persistent subscriptions, the page's render time, gaps after
// the gateway lost its history, and telegraphy.history.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Telegraphy } from '../dist/telegraphy.mjs';
import { CONFIG, envelope, Inbox, next, publish, SpySocket, startGateway } from './support.js';

const FAST = { initialDelay: 50, maxDelay: 400, jitter: 0.5 };
const TOPIC = (name) => `telegraphy.event.${name}`;

function client(gateway, options = {}) {
  return new Telegraphy({ url: gateway.url, WebSocket: SpySocket, reconnect: FAST, ...options });
}

/** Resolves with the next `kind` ('recovered' or 'gap') of `subscription`. */
function report(subscription, kind, ms = undefined) {
  const inbox = new Inbox();
  subscription.on(kind, inbox.push);
  return inbox.next(`the subscription's '${kind}'`, ms);
}

/** A client store in memory: what a page's cookie is across reloads. */
function memoryStore() {
  let kept = null;
  return { load: () => kept, save: (id) => (kept = id), clear: () => (kept = null) };
}

const sentSubscribe = (socket) => socket.sent.filter((m) => m[0] === 32);

describe('recovery', () => {
  let gateway;
  before(async () => (gateway = await startGateway(CONFIG)));
  after(() => gateway?.stop());

  test('a dropped connection resumes with its positions: what it missed comes in order, once', async () => {
    // The reconnection waits on `held` (its token request) until the missed events are published.
    let release;
    const held = new Promise((resolve) => (release = resolve));
    let tokens = 0;
    const t = client(gateway, { getToken: async () => (tokens++ === 0 ? null : (await held, null)) });
    const events = new Inbox();
    const missed = new Inbox();
    t.on('missed', missed.push);
    const sub = t.subscribe('public.Recover', events.push);
    await sub.ready;
    const [first] = await publish(gateway, envelope('public.Recover', 'create', { n: 1 }));
    assert.deepEqual(await events.next('the live event'), first);

    const reconnecting = next(t, 'reconnecting');
    SpySocket.last().terminate();
    await reconnecting;
    const missedEvents = await publish(
      gateway,
      envelope('public.Recover', 'update', { n: 2 }),
      envelope('public.Recover', 'update', { n: 3 }),
    );
    const recovered = report(sub, 'recovered');
    const resumed = next(t, 'resumed');
    release();
    await resumed;
    assert.deepEqual(await recovered, { name: 'public.Recover', topic: TOPIC('public.Recover'), count: 2 });
    assert.deepEqual(await events.next('the first missed event'), missedEvents[0]);
    assert.deepEqual(await events.next('the second missed event'), missedEvents[1]);
    assert.equal(missed.pending, 0, 'recovered: nothing is reported missed');

    const { previous_session: previous, recover } = SpySocket.last().sent[0][2].authextra;
    assert.equal(previous, t.clientId);
    const position = recover.positions[TOPIC('public.Recover')];
    assert.equal(position.offset, 1);
    assert.equal(typeof position.epoch, 'string');

    const [live] = await publish(gateway, envelope('public.Recover', 'delete', { n: 4 }));
    assert.deepEqual(await events.next('the live event after recovery'), live);
    t.close();
  });

  test('a reloaded page resumes a persistent subscription from where the gateway saw it leave', async () => {
    const store = memoryStore();
    const page = client(gateway, { store });
    const kept = page.subscribe('public.Kept', undefined, { persistent: true });
    await kept.ready;
    assert.deepEqual(sentSubscribe(SpySocket.last())[0][2], { persistent: true });
    await publish(gateway, envelope('public.Kept', 'create', { n: 1 }));
    const closed = next(page, 'closed');
    page.close();
    await closed;
    const missedEvents = await publish(
      gateway,
      envelope('public.Kept', 'update', { n: 2 }),
      envelope('public.Kept', 'update', { n: 3 }),
    );

    const reloaded = client(gateway, { store }); // no token: it resumes the stored client id
    const events = new Inbox();
    const sub = reloaded.subscribe('public.Kept', events.push);
    const recovered = report(sub, 'recovered');
    const opened = await next(reloaded, 'open');
    assert.equal(opened.resumed, true);
    assert.deepEqual(await recovered, { name: 'public.Kept', topic: TOPIC('public.Kept'), count: 2 });
    assert.deepEqual(await events.next('the first event published while away'), missedEvents[0]);
    assert.deepEqual(await events.next('the second'), missedEvents[1]);
    const socket = SpySocket.last();
    assert.deepEqual(socket.sent[0][2].authextra, { previous_session: opened.clientId }, 'no positions: the gateway kept them');
    assert.equal(sentSubscribe(socket).length, 0, 'restored, not subscribed again');
    reloaded.close();
  });

  test('since: a page gets what was published between reading its data and subscribing', async () => {
    await publish(gateway, envelope('public.Since', 'create', { n: 0 })); // in the rendered page
    const since = Date.now() / 1000;
    const missedEvents = await publish(
      gateway,
      envelope('public.Since', 'update', { n: 1 }),
      envelope('public.Since', 'update', { n: 2 }),
    );
    const t = client(gateway, { since });
    const events = new Inbox();
    const sub = t.subscribe('public.Since', events.push);
    const recovered = report(sub, 'recovered');
    await sub.ready;
    assert.deepEqual(sentSubscribe(SpySocket.last())[0][2], { recover: { since } });
    assert.equal((await recovered).count, 2);
    assert.deepEqual(await events.next('the first event after the render'), missedEvents[0]);
    assert.deepEqual(await events.next('the second'), missedEvents[1]);
    t.close();
  });

  test('a reload that resumes its cookie\'s client id recovers from the render time', async () => {
    const store = memoryStore();
    const page = client(gateway, { store });
    await page.subscribe('public.Reload').ready;
    const closed = next(page, 'closed');
    page.close();
    await closed;
    await publish(gateway, envelope('public.Reload', 'create', { n: 0 })); // in the new page's data
    const since = Date.now() / 1000;
    const missedEvents = await publish(gateway, envelope('public.Reload', 'update', { n: 1 }));

    const reloaded = client(gateway, { store, since });
    const events = new Inbox();
    const missed = new Inbox();
    reloaded.on('missed', missed.push);
    const sub = reloaded.subscribe('public.Reload', events.push);
    const recovered = report(sub, 'recovered');
    const opened = await next(reloaded, 'open');
    assert.equal(opened.resumed, true);
    assert.equal((await recovered).count, 1);
    assert.deepEqual(await events.next('the event after the render'), missedEvents[0]);
    const socket = SpySocket.last();
    assert.deepEqual(socket.sent[0][2].authextra, { previous_session: opened.clientId, recover: { since } });
    assert.equal(sentSubscribe(socket).length, 0, 'restored, not subscribed again');
    assert.equal(missed.pending, 0);
    reloaded.close();
  });

  test('history resolves to the last events, oldest first', async () => {
    const sent = await publish(
      gateway,
      envelope('public.History', 'create', { n: 1 }),
      envelope('public.History', 'update', { n: 2 }),
      envelope('public.History', 'delete', { n: 3 }),
    );
    const t = client(gateway);
    assert.deepEqual(await t.history('public.History', 2), sent.slice(1));
    assert.deepEqual(await t.history('public.Nothing'), []);
    const refused = await t.history('private.Model').catch((e) => e);
    assert.equal(refused.uri, 'wamp.error.not_authorized');
    t.close();
  });
});

test('after the gateway lost its history the resubscription reports a gap, then events flow', async () => {
  let gateway = await startGateway(CONFIG);
  const t = client(gateway);
  const events = new Inbox();
  const gaps = new Inbox();
  t.on('gap', gaps.push);
  try {
    const sub = t.subscribe('public.Restart', events.push);
    await sub.ready;
    await publish(gateway, envelope('public.Restart', 'create', { n: 1 }));
    await events.next('the event before the restart');
    const port = gateway.port;
    const closed = next(t, 'closed');
    await gateway.stop();
    await closed;
    const gap = report(sub, 'gap', 30000); // through the reconnection backoff and the restart
    gateway = await startGateway(CONFIG, port);
    // The new process knows neither the client id nor the topic's history: a fresh session
    // subscribes again from where the page stood and is told that position is gone.
    const expected = { name: 'public.Restart', topic: TOPIC('public.Restart'), reason: 'epoch_changed', offset: 0, epoch: '' };
    assert.deepEqual(await gap, expected);
    assert.deepEqual(await gaps.next('the instance-level gap'), expected);
    const subscribe = sentSubscribe(SpySocket.last())[0];
    assert.equal(subscribe[2].recover.positions[TOPIC('public.Restart')].offset, 1);
    const [after] = await publish(gateway, envelope('public.Restart', 'update', { n: 2 }));
    assert.deepEqual(await events.next('an event in the new epoch'), after);
  } finally {
    t.close();
    await gateway.stop();
  }
});
