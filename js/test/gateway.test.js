// The client against a real gateway process: events published through the signed ingress,
// tokens minted by telegraphy-core, a gateway restarted on the same port.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Telegraphy, WampError } from '../dist/telegraphy.mjs';
import { CONFIG, envelope, Inbox, mint, next, publish, SpySocket, startGateway } from './support.js';

const FAST = { initialDelay: 50, maxDelay: 400, jitter: 0.5 };

function client(gateway, options = {}) {
  return new Telegraphy({ url: gateway.url, WebSocket: SpySocket, reconnect: FAST, ...options });
}

/** Connect and wait until every subscription made so far is in place. */
async function ready(t, ...subscriptions) {
  if (t.state !== 'open') await next(t, 'open');
  await Promise.all(subscriptions.map((s) => s.ready));
}

describe('anonymous clients', () => {
  let gateway;
  before(async () => (gateway = await startGateway(CONFIG)));
  after(() => gateway?.stop());

  test('register, subscribe and .on receive the seed-shaped tEvent; unregister stops it', async () => {
    const t = client(gateway);
    const registered = new Inbox();
    const updates = new Inbox();
    const everything = new Inbox();
    t.register('public.Model', registered.push);
    const byType = t.subscribe('public.Model').on('update', updates.push);
    const pattern = t.subscribe('public.*', everything.push);
    await ready(t, byType, pattern);
    assert.equal(t.state, 'open');

    const [created, updated] = await publish(
      gateway,
      envelope('public.Model', 'create', { id: 1, title: 'first' }),
      envelope('public.Model', 'update', { id: 1, title: 'changed' }),
    );
    assert.deepEqual(await registered.next('the registered handler'), created);
    assert.deepEqual(await registered.next(), updated);
    assert.deepEqual(await updates.next('the update handler'), updated);
    const [first, details] = await new Promise((resolve) => {
      const seen = t.subscribe('public.Other', (...a) => resolve(a));
      seen.ready.then(() => publish(gateway, envelope('public.Other', 'custom', { n: 1 })));
    });
    assert.deepEqual([first.name, first.meta.event_type, first.data], ['public.Other', 'custom', { n: 1 }]);
    assert.equal(details.topic, undefined, 'an exact subscription gets no topic detail');
    assert.equal((await everything.next()).meta.event_type, 'create');
    assert.equal((await everything.next()).meta.event_type, 'update');
    const other = await everything.next();
    assert.equal(other.name, 'public.Other');

    t.unregister('public.Model', registered.push);
    const [deleted] = await publish(gateway, envelope('public.Model', 'delete', { id: 1 }));
    assert.deepEqual(await everything.next('the delete, after unregister'), deleted);
    assert.equal(registered.pending, 0, 'an unregistered handler gets nothing');
    assert.equal(updates.pending, 0, '.on("update") ignores a delete');
    t.close();
    assert.equal((await next(t, 'closed')).willReconnect, false);
  });

  test('a subscription the gateway refuses rejects and is reported; heartbeats keep the link', async () => {
    const t = client(gateway, { heartbeat: { interval: 50, timeout: 2000 } });
    const errors = new Inbox();
    t.on('error', errors.push);
    const refused = t.subscribe('private.Model');
    const error = await refused.ready.then(() => null, (e) => e);
    assert.ok(error instanceof WampError);
    assert.equal(error.uri, 'wamp.error.not_authorized');
    assert.equal((await errors.next('the error event')).topic, 'telegraphy.event.private.Model');

    const socket = SpySocket.last();
    const answered = new Inbox();
    const waitForBeats = setInterval(() => {
      const calls = socket.sent.filter((m) => m[0] === 48 && m[3] === 'telegraphy.subscriptions');
      if (calls.length >= 3) answered.push(calls.length);
    }, 20);
    await answered.next('three heartbeats, each sent after the previous one was answered');
    clearInterval(waitForBeats);
    assert.equal(t.state, 'open');
    assert.equal(errors.pending, 0);
    t.close();
  });

  test('a dropped connection resumes its client id: restored subscriptions, missed events unknown', async () => {
    const t = client(gateway);
    const events = new Inbox();
    const sub = t.subscribe('public.Resumed', events.push);
    const opened = await next(t, 'open');
    await sub.ready;
    assert.match(opened.clientId, /^[A-Za-z0-9_-]{32,}$/);
    const resumed = next(t, 'resumed');
    const missed = next(t, 'missed');
    SpySocket.last().terminate(); // no close handshake: as a network failure looks
    assert.deepEqual(await resumed, { clientId: opened.clientId });
    assert.deepEqual(await missed, { reason: 'unknown' });
    const socket = SpySocket.last();
    const [event] = await publish(gateway, envelope('public.Resumed', 'create', { id: 2 }));
    assert.deepEqual(await events.next('an event on the restored subscription'), event);
    assert.deepEqual(socket.sent[0][2].authextra, { previous_session: opened.clientId });
    assert.equal(socket.sent.filter((m) => m[0] === 32).length, 0, 'no SUBSCRIBE: it was restored');
    t.close();
  });
});

test('after the gateway restarts on the same port the client reconnects and resubscribes', async () => {
  let gateway = await startGateway(CONFIG);
  const t = client(gateway);
  const events = new Inbox();
  const states = [];
  try {
    await ready(t, t.subscribe('public.Model', events.push));
    for (const state of ['closed', 'reconnecting', 'open']) t.on(state, () => states.push(state));
    const port = gateway.port;
    const closed = next(t, 'closed');
    await gateway.stop();
    assert.equal((await closed).willReconnect, true);
    const missed = next(t, 'missed', { within: 30000 });
    const reopened = next(t, 'open', { within: 30000, what: 'the reconnection' });
    gateway = await startGateway(CONFIG, port);
    assert.equal((await reopened).resumed, false);
    // The new process never heard of our client id: it refused the resume, we started afresh.
    assert.deepEqual(await missed, {
      reason: 'not-resumed',
      message: 'unknown or expired previous_session',
    });
    const resubscribed = t.subscribe('public.Model');
    await resubscribed.ready;
    const [event] = await publish(gateway, envelope('public.Model', 'update', { id: 3 }));
    assert.deepEqual(await events.next('an event after the restart'), event);
    assert.deepEqual(states.slice(0, 2), ['closed', 'reconnecting']);
    assert.equal(states.at(-1), 'open');
  } finally {
    t.close();
    await gateway.stop();
  }
});

describe('token clients', () => {
  let gateway;
  before(async () => (gateway = await startGateway(CONFIG)));
  after(() => gateway?.stop());

  test('a token grants events and channels; publishing where it is not allowed is rejected', async () => {
    const [aliceToken, bobToken] = mint(
      { user: '42', events: ['shop.Order'], channels: ['chat.*'], publish: ['chat.*'] },
      { user: '7', channels: ['chat.room-1'] },
    );
    const alice = client(gateway, { token: aliceToken });
    const bob = client(gateway, { token: bobToken });
    const orders = new Inbox();
    const chat = new Inbox();
    const own = alice.channel('user.42').subscribe();
    await ready(alice, alice.subscribe('shop.Order', orders.push), own);
    await ready(bob, bob.channel('chat.room-1').subscribe(chat.push));
    assert.equal(SpySocket.last().sent[0][2].authmethods[0], 'ticket');

    const [order] = await publish(gateway, envelope('shop.Order', 'create', { id: 5 }));
    assert.deepEqual(await orders.next('the granted event'), order);
    await alice.channel('chat.room-1').publish({ text: 'hello' });
    const message = await chat.next('the chat message');
    assert.deepEqual([message.name, message.meta.event_type, message.data], ['chat.room-1', 'message', { text: 'hello' }]);
    const refused = await bob.channel('chat.room-1').publish({ text: 'no' }).catch((e) => e);
    assert.equal(refused.uri, 'wamp.error.not_authorized');
    const notGranted = bob.subscribe('shop.Order');
    assert.equal((await notGranted.ready.catch((e) => e)).uri, 'wamp.error.not_authorized');
    alice.close();
    bob.close();
  });

  test('a refused token is reported and the client goes on anonymously', async () => {
    const [token] = mint({ user: '42' });
    const first = client(gateway, { token });
    const opened = next(first, 'open');
    first.connect();
    await opened;
    assert.deepEqual([(await opened).authid, (await opened).authrole], ['42', 'user']);
    first.close();

    for (const [bad, why] of [[token, 'token already used'], ['tg1.bad.token', 'invalid token']]) {
      const t = client(gateway, { token: bad });
      const error = next(t, 'error');
      const open = next(t, 'open');
      t.connect();
      const refusal = await error;
      assert.equal(refusal.uri, 'wamp.error.authentication_denied');
      assert.equal(refusal.args[0], why);
      assert.equal((await open).authrole, 'anonymous');
      t.close();
    }
  });

  test('reconnections resume with a fresh token from getToken, or resume-only without one', async () => {
    let fresh = 0;
    const [pageToken, resumeOnlyToken] = mint({ user: '42', events: ['shop.Order'] }, { user: '9' });
    const withSource = client(gateway, {
      token: pageToken,
      getToken: () => (fresh++, mint({ user: '42', events: ['shop.Order'] })[0]),
    });
    const orders = new Inbox();
    await ready(withSource, withSource.subscribe('shop.Order', orders.push));
    const resumed = next(withSource, 'resumed');
    SpySocket.last().terminate();
    await resumed;
    assert.equal(fresh, 1);
    const [order] = await publish(gateway, envelope('shop.Order', 'delete', { id: 1 }));
    assert.deepEqual(await orders.next('the event after resuming'), order);
    withSource.close();

    const resumeOnly = client(gateway, { token: resumeOnlyToken });
    const firstOpen = next(resumeOnly, 'open');
    resumeOnly.connect();
    await firstOpen;
    const reopened = next(resumeOnly, 'open');
    SpySocket.last().terminate();
    const info = await reopened;
    assert.deepEqual([info.authid, info.authrole, info.resumed], ['9', 'user', true]);
    const authenticate = SpySocket.last().sent.find((m) => m[0] === 5);
    assert.deepEqual(authenticate, [5, '', {}]);
    resumeOnly.close();
  });
});

describe('filters', () => {
  let gateway;
  before(async () => (gateway = await startGateway(CONFIG)));
  after(() => gateway?.stop());

  test('the filter option narrows what a page gets, within what its token lets through', async () => {
    const [token] = mint({ user: '3', events: ['shop.Order'], filters: { 'shop.Order': { customer: 3 } } });
    const t = client(gateway, { token });
    const mine = new Inbox();
    const paid = new Inbox();
    const all = t.subscribe('shop.Order', mine.push);
    const onlyPaid = t.subscribe('shop.Order', paid.push, { filter: { status: 'paid' } });
    const refused = t.subscribe('shop.Order', () => {}, { filter: { status__inn: ['paid'] } });
    const error = await refused.ready.then(() => null, (e) => e);
    assert.equal(error.uri, 'wamp.error.invalid_argument');
    assert.match(error.args[0], /unknown lookup 'inn'/);
    await ready(t, all, onlyPaid);

    await publish(
      gateway,
      envelope('shop.Order', 'update', { id: 1, customer: 4, status: 'paid' }),
      envelope('shop.Order', 'update', { id: 2, customer: 3, status: 'new' }),
      envelope('shop.Order', 'update', { id: 3, customer: 3, status: 'paid' }),
    );
    assert.deepEqual([(await mine.next()).data.id, (await mine.next()).data.id], [2, 3]);
    assert.equal((await paid.next('the paid order')).data.id, 3);
    assert.equal(paid.pending + mine.pending, 0);
    t.close();
  });
});

describe('presence', () => {
  let gateway;
  before(async () => (gateway = await startGateway(`${CONFIG}\n[presence]\nleave_delay = 0.5\n`)));
  after(() => gateway?.stop());

  test('a present client is listed with its info; joins and leaves reach the watchers', async () => {
    const [annToken, bobToken, outsiderToken] = mint(
      { user: '1', channels: ['chat.*'], info: { name: 'Ann' } },
      { user: '2', channels: ['chat.room-1'] },
      { user: '3', channels: ['chat.other'] },
    );
    const bob = client(gateway, { token: bobToken });
    const room = bob.channel('chat.room-1');
    const seen = new Inbox();
    await ready(bob, room.on('join', seen.push), room.on('leave', seen.push));
    const ann = client(gateway, { token: annToken });
    await ready(ann, ann.channel('chat.room-1').subscribe(() => {}, { presence: true }));
    const joined = await seen.next('the join');
    assert.deepEqual([joined.kind, joined.member.user, joined.member.info, joined.count], ['join', '1', { name: 'Ann' }, 1]);
    assert.deepEqual((await room.presence()).map((m) => [m.user, m.client_id]), [['1', ann.clientId]]);

    const outsider = client(gateway, { token: outsiderToken });
    const refused = await outsider.channel('chat.room-1').presence().catch((e) => e);
    assert.equal(refused.uri, 'wamp.error.not_authorized');
    ann.close();
    const left = await seen.next('the leave (after the leave delay)');
    assert.deepEqual([left.kind, left.member.user, left.count], ['leave', '1', 0]);
    outsider.close();
    bob.close();
  });
});
