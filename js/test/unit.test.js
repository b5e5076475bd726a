// The client's protocol handling and bookkeeping against a scripted router: a fake socket
// whose side of the conversation each test writes message by message.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { backoffDelay, RECONNECT_DEFAULTS, Telegraphy, WampError } from '../dist/telegraphy.mjs';
import { Inbox } from './support.js';

/** A WebSocket the test drives: `open()`, `deliver(message)`, and `sent` holds what went out. */
class FakeSocket {
  static created = new Inbox();
  protocol = 'wamp.2.json';
  onopen = null;
  onmessage = null;
  onclose = null;
  onerror = null;
  closed = false;

  constructor(url, protocols) {
    this.url = url;
    this.protocols = protocols;
    this.sent = new Inbox();
    FakeSocket.created.push(this);
  }

  send(data) {
    if (process.env.DBG) console.log("out", data);
    this.sent.push(JSON.parse(data));
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    queueMicrotask(() => this.onclose?.({ code: 1000, reason: '' }));
  }

  open() {
    this.onopen?.({});
  }

  deliver(message) {
    if (process.env.DBG) console.log("in", JSON.stringify(message));
    this.onmessage?.({ data: typeof message === 'string' ? message : JSON.stringify(message) });
  }

  lose() {
    this.closed = true;
    this.onclose?.({ code: 1006, reason: '' });
  }
}

const TOPIC = 'telegraphy.event.shop.Order';
const FAST = { initialDelay: 1, maxDelay: 1, jitter: 0 };

function client(options = {}) {
  return new Telegraphy({
    url: 'ws://gateway.test/ws',
    WebSocket: FakeSocket,
    heartbeat: false,
    reconnect: FAST,
    ...options,
  });
}

/** Wait for the client's next `name` event. */
function when(t, name) {
  const inbox = new Inbox();
  const off = t.on(name, (v) => {
    off();
    inbox.push(v);
  });
  return inbox.next(`'${name}'`);
}

/** Open the next socket and answer its HELLO with WELCOME; returns [socket, hello]. */
async function join(authextra = {}, details = {}) {
  const socket = await FakeSocket.created.next('a socket');
  socket.open();
  const hello = await socket.sent.next('HELLO');
  socket.deliver([2, 1001, { authid: 'anonymous-1', authrole: 'anonymous', authmethod: 'anonymous', authextra, ...details }]);
  return [socket, hello];
}

async function subscribed(socket, id) {
  const message = await socket.sent.next('SUBSCRIBE');
  assert.equal(message[0], 32);
  socket.deliver([33, message[1], id]);
  return message;
}

function event(subscription, envelope) {
  return [36, subscription, 555, {}, [envelope]];
}

const order = (type, id = 1) => ({
  name: 'shop.Order',
  meta: { event_type: type, verbose_name: 'Order', timestamp: '2026-01-01T12:00:00Z', id: `o${id}` },
  data: { id },
});

test('backoff delays grow exponentially, stay capped and jitter within bounds', () => {
  const options = { ...RECONNECT_DEFAULTS, initialDelay: 100, maxDelay: 5000, jitter: 0.5 };
  for (let attempt = 0; attempt < 30; attempt++) {
    const base = Math.min(5000, 100 * 2 ** attempt);
    assert.equal(backoffDelay(attempt, options, () => 0), base);
    assert.equal(backoffDelay(attempt, options, () => 0.9999999), Math.round(base * 0.5));
    const d = backoffDelay(attempt, options);
    assert.ok(d >= base * 0.5 - 1 && d <= base, `attempt ${attempt}: ${d} outside [${base / 2}, ${base}]`);
  }
  assert.equal(backoffDelay(3, { ...options, jitter: 0 }, Math.random), 800);
  assert.equal(backoffDelay(3, { ...options, jitter: 7 }, () => 1), 0, 'jitter is clamped to 1');
});

test('handshake: anonymous HELLO announces the roles; a token answers the ticket CHALLENGE', async () => {
  const t = client();
  const opened = when(t, 'open');
  t.connect();
  assert.equal(t.state, 'connecting');
  const [socket, hello] = await join({ client_id: 'c1', client_expires: 2e9, resumed: false });
  assert.deepEqual(socket.protocols, ['wamp.2.json']);
  assert.equal(hello[0], 1);
  assert.equal(hello[1], 'telegraphy');
  assert.deepEqual(Object.keys(hello[2].roles).sort(), ['caller', 'publisher', 'subscriber']);
  assert.deepEqual(hello[2].authmethods, ['anonymous']);
  const info = await opened;
  assert.equal(info.session, 1001);
  assert.equal(info.clientId, 'c1');
  assert.equal(t.state, 'open');
  t.close();
  assert.deepEqual(await socket.sent.next('GOODBYE'), [6, {}, 'wamp.close.close_realm']);

  const withToken = client({ token: 'tg1.a.b', realm: 'other' });
  withToken.connect();
  const s2 = await FakeSocket.created.next('a socket');
  s2.open();
  const hello2 = await s2.sent.next('HELLO');
  assert.deepEqual([hello2[1], hello2[2].authmethods], ['other', ['ticket']]);
  s2.deliver([4, 'ticket', {}]);
  assert.deepEqual(await s2.sent.next('AUTHENTICATE'), [5, 'tg1.a.b', {}]);
  withToken.close();
});

test('subscriptions: one WAMP subscription per topic, events by type, unsubscribe when the last goes', async () => {
  const t = client();
  const all = new Inbox();
  const updates = new Inbox();
  const a = t.subscribe('shop.Order', all.push);
  const b = t.subscribe('shop.Order').on('update', updates.push);
  const [socket] = await join();
  const message = await subscribed(socket, 7);
  assert.deepEqual(message.slice(2), [{}, TOPIC]);
  await Promise.all([a.ready, b.ready]);
  socket.deliver(event(7, order('create', 1)));
  socket.deliver(event(7, order('update', 2)));
  assert.deepEqual(await all.next(), order('create', 1));
  assert.deepEqual(await all.next(), order('update', 2));
  assert.deepEqual(await updates.next(), order('update', 2));
  assert.equal(updates.pending, 0, 'on("update") ignores creates');

  const pattern = t.subscribe('shop.*');
  const [, , options, topic] = await socket.sent.next('a prefix SUBSCRIBE');
  assert.deepEqual([options, topic], [{ match: 'prefix' }, 'telegraphy.event.shop.']);
  assert.equal(pattern.match, 'prefix');

  await a.unsubscribe(); // b still needs the topic: nothing is sent
  const unsubscribing = b.unsubscribe();
  const unsubscribe = await socket.sent.next('UNSUBSCRIBE');
  assert.deepEqual([unsubscribe[0], unsubscribe[2]], [34, 7]);
  socket.deliver([35, unsubscribe[1]]);
  await unsubscribing;
  t.close();
});

test('the seeds API: register and unregister one handler or all of them', async () => {
  const t = client();
  const first = new Inbox();
  const second = new Inbox();
  t.register('shop.Order', first.push).register('shop.Order', second.push);
  const [socket] = await join();
  await subscribed(socket, 9);
  socket.deliver(event(9, order('create')));
  await first.next();
  await second.next();
  t.unregister('shop.Order', first.push);
  socket.deliver(event(9, order('update')));
  assert.equal((await second.next()).meta.event_type, 'update');
  assert.equal(first.pending, 0);
  t.unregister('shop.Order');
  assert.equal((await socket.sent.next('UNSUBSCRIBE'))[2], 9);
  t.close();
});

test('resume: previous_session is sent, restored subscriptions are adopted, the page is told', async () => {
  const t = client();
  const handler = new Inbox();
  t.subscribe('shop.Order', handler.push);
  const [socket] = await join({ client_id: 'client-1', client_expires: 2e9, resumed: false });
  await subscribed(socket, 7);
  const resumed = when(t, 'resumed');
  const missed = when(t, 'missed');
  const reconnecting = when(t, 'reconnecting');
  socket.lose();
  assert.equal((await reconnecting).attempt, 1);
  const restored = [
    { id: 7, topic: TOPIC, match: 'exact' },
    { id: 8, topic: 'telegraphy.event.unwanted', match: 'exact' },
  ];
  const [socket2, hello] = await join({ client_id: 'client-1', resumed: true, subscriptions: restored, missed_events: 'unknown' });
  assert.deepEqual(hello[2].authextra, { previous_session: 'client-1' });
  assert.deepEqual(hello[2].authmethods, ['anonymous'], 'an anonymous client resumes anonymously');
  assert.deepEqual(await resumed, { clientId: 'client-1' });
  assert.deepEqual(await missed, { reason: 'unknown' });
  const unsubscribe = await socket2.sent.next('UNSUBSCRIBE of what the page no longer wants');
  assert.deepEqual([unsubscribe[0], unsubscribe[2]], [34, 8]);
  socket2.deliver(event(7, order('delete')));
  assert.equal((await handler.next()).meta.event_type, 'delete');
  t.close();
  assert.equal((await socket2.sent.next('GOODBYE'))[0], 6, 'no SUBSCRIBE for the restored topic');
});

test('filters: one WAMP subscription per topic and filter, sent as the filter option and kept on resume', async () => {
  const t = client();
  const paid = new Inbox();
  const mine = new Inbox();
  const a = t.subscribe('shop.Order', paid.push, { filter: { status: 'paid', total__gt: 10 } });
  t.register('shop.Order', mine.push, { filter: { customer__id: 3 } });
  const [socket] = await join({ client_id: 'client-f', client_expires: 2e9, resumed: false });
  const first = await subscribed(socket, 7);
  const second = await subscribed(socket, 8);
  assert.deepEqual(first[2], { filter: { status: 'paid', total__gt: 10 } });
  assert.deepEqual(second[2], { filter: { customer__id: 3 } });
  // The same filter with its keys in another order is the same subscription: no SUBSCRIBE.
  const same = t.subscribe('shop.Order', paid.push, { filter: { total__gt: 10, status: 'paid' } });
  await same.ready;
  socket.deliver(event(8, order('update', 2)));
  assert.equal((await mine.next()).data.id, 2);
  assert.equal(paid.pending, 0, 'events go by subscription id');

  const reconnecting = when(t, 'reconnecting');
  socket.lose();
  await reconnecting;
  const restored = [
    { id: 7, topic: TOPIC, match: 'exact', filter: { total__gt: 10, status: 'paid' } },
    { id: 8, topic: TOPIC, match: 'exact', filter: { customer__id: 4 } }, // not the page's
  ];
  const [socket2] = await join({ client_id: 'client-f', resumed: true, subscriptions: restored });
  const unsubscribe = await socket2.sent.next('UNSUBSCRIBE of the filter the page did not ask');
  assert.deepEqual([unsubscribe[0], unsubscribe[2]], [34, 8]);
  const again = await subscribed(socket2, 9);
  assert.deepEqual(again[2].filter, { customer__id: 3 });
  socket2.deliver(event(7, order('update', 5)));
  assert.equal((await paid.next()).data.id, 5);
  await a.unsubscribe(); // `same` still holds the filtered subscription: nothing is sent
  t.close();
  assert.equal((await socket2.sent.next('GOODBYE'))[0], 6);
});

test('filters: two spellings of one filter share the subscription the gateway gives them', async () => {
  const t = client();
  const short = new Inbox();
  const long = new Inbox();
  const a = t.subscribe('shop.Order', short.push, { filter: { status: 'paid' } });
  const b = t.subscribe('shop.Order', long.push, { filter: { data__status__exact: 'paid' } });
  const [socket] = await join({ client_id: 'client-s', client_expires: 2e9, resumed: false });
  await subscribed(socket, 7);
  await subscribed(socket, 7); // equal filters: the gateway answers with the same subscription
  socket.deliver(event(7, order('update', 1)));
  assert.equal((await short.next()).data.id, 1);
  assert.equal((await long.next()).data.id, 1);
  await a.unsubscribe(); // b still needs subscription 7: nothing is sent
  socket.deliver(event(7, order('update', 2)));
  assert.equal((await long.next()).data.id, 2);
  const unsubscribing = b.unsubscribe();
  const unsubscribe = await socket.sent.next('UNSUBSCRIBE');
  assert.deepEqual([unsubscribe[0], unsubscribe[2]], [34, 7]);
  socket.deliver([35, unsubscribe[1]]);
  await unsubscribing;
  assert.equal(short.pending, 0);
  t.close();
});

test('a refused resume falls back to a fresh session with the same token and resubscribes', async () => {
  const t = client({ token: 'tg1.first' });
  t.subscribe('shop.Order');
  let socket = await FakeSocket.created.next('a socket');
  socket.open();
  await socket.sent.next('HELLO');
  socket.deliver([4, 'ticket', {}]);
  await socket.sent.next('AUTHENTICATE');
  socket.deliver([2, 1, { authmethod: 'ticket', authextra: { client_id: 'gone', resumed: false } }]);
  await subscribed(socket, 3);
  socket.lose();

  // No token source: resume-only, offering ticket (with an empty signature) then anonymous.
  socket = await FakeSocket.created.next('the resuming socket');
  socket.open();
  const hello = await socket.sent.next('HELLO');
  assert.deepEqual(hello[2].authmethods, ['ticket', 'anonymous']);
  assert.deepEqual(hello[2].authextra, { previous_session: 'gone' });
  socket.deliver([4, 'ticket', {}]);
  assert.deepEqual(await socket.sent.next('AUTHENTICATE'), [5, '', {}]);
  const missed = when(t, 'missed');
  socket.deliver([3, { message: 'unknown or expired previous_session' }, 'wamp.error.authentication_denied']);

  const [fresh, freshHello] = await join({ client_id: 'new', resumed: false });
  assert.deepEqual(freshHello[2].authextra, {}, 'the refused client id is forgotten');
  assert.deepEqual(await missed, { reason: 'not-resumed', message: 'unknown or expired previous_session' });
  assert.equal((await subscribed(fresh, 4))[3], TOPIC);
  assert.equal(t.clientId, 'new');
  t.close();
});

test('getToken gives each reconnection a fresh token', async () => {
  let calls = 0;
  const t = client({ token: 'tg1.page', getToken: async () => `tg1.fresh${++calls}` });
  t.connect();
  let socket = await FakeSocket.created.next('a socket');
  socket.open();
  await socket.sent.next('HELLO');
  socket.deliver([4, 'ticket', {}]);
  assert.equal((await socket.sent.next('AUTHENTICATE'))[1], 'tg1.page');
  socket.deliver([2, 1, { authmethod: 'ticket', authextra: { client_id: 'c', resumed: false } }]);
  socket.lose();
  socket = await FakeSocket.created.next('a socket');
  socket.open();
  const hello = await socket.sent.next('HELLO');
  assert.deepEqual([hello[2].authmethods, hello[2].authextra], [['ticket'], { previous_session: 'c' }]);
  socket.deliver([4, 'ticket', {}]);
  assert.equal((await socket.sent.next('AUTHENTICATE'))[1], 'tg1.fresh1');
  t.close();
});

test('ERROR replies reject with the WAMP error; a refused subscription is reported', async () => {
  const t = client();
  const errors = new Inbox();
  t.on('error', errors.push);
  const subscription = t.subscribe('secret.Thing');
  const [socket] = await join();
  const request = await socket.sent.next('SUBSCRIBE');
  socket.deliver([8, 32, request[1], {}, 'wamp.error.not_authorized', ['not authorized to subscribe']]);
  const refused = await subscription.ready.then(() => null, (e) => e);
  assert.ok(refused instanceof WampError);
  assert.equal(refused.uri, 'wamp.error.not_authorized');
  assert.equal(refused.message, 'wamp.error.not_authorized: not authorized to subscribe');
  assert.equal((await errors.next()).uri, 'wamp.error.not_authorized');

  const publishing = t.channel('chat.room-1').publish({ text: 'hi' });
  const publish = await socket.sent.next('PUBLISH');
  assert.equal(publish[0], 16);
  assert.deepEqual(publish[2], { acknowledge: true });
  assert.equal(publish[3], 'telegraphy.channel.chat.room-1');
  const [sent] = publish[4];
  assert.deepEqual(Object.keys(sent.meta).sort(), ['event_type', 'id', 'timestamp']);
  assert.deepEqual([sent.name, sent.meta.event_type, sent.data], ['chat.room-1', 'message', { text: 'hi' }]);
  assert.match(sent.meta.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  socket.deliver([8, 16, publish[1], {}, 'wamp.error.not_authorized', ['no']]);
  assert.equal((await publishing.catch((e) => e)).uri, 'wamp.error.not_authorized');
  await assert.rejects(t.channel('chat.*').publish({}), TypeError);
  t.close();
});

test('protocol violations: the client aborts, reports and reconnects', async () => {
  const cases = [
    ['not json', 'a frame is not JSON'],
    [[99, 1], 'message type 99 is not sent to a client'],
    [[33, 12345, 1], 'a reply to unknown request 12345'],
    [[36, 'x', 1, {}], 'malformed message of type 36'],
    [[2, 5, {}], 'message type 2 in reply'],
  ];
  for (const [message, text] of cases) {
    const t = client();
    const errors = new Inbox();
    t.on('error', errors.push);
    t.connect();
    const [socket] = await join();
    if (text.startsWith('message type 2')) {
      t.subscribe('a.b');
      const request = await socket.sent.next('SUBSCRIBE');
      socket.deliver([2, request[1], {}]); // a WELCOME-shaped reply: wrong type for SUBSCRIBE
    } else {
      socket.deliver(message);
    }
    const abort = await socket.sent.next('ABORT');
    assert.deepEqual([abort[0], abort[2]], [3, 'wamp.error.protocol_violation']);
    assert.ok(abort[1].message.startsWith(text), abort[1].message);
    assert.equal((await errors.next()).uri, 'wamp.error.protocol_violation');
    assert.ok(socket.closed);
    await join(); // reconnected
    t.close();
  }
});

test('GOODBYE from the router is answered; ABORT and revocation are reported', async () => {
  const t = client();
  const closed = when(t, 'closed');
  t.connect();
  const [socket] = await join();
  socket.deliver([6, {}, 'wamp.close.system_shutdown']);
  assert.deepEqual(await socket.sent.next('GOODBYE'), [6, {}, 'wamp.close.goodbye_and_out']);
  assert.equal((await closed).willReconnect, true);

  const [socket2] = await join();
  const errors = new Inbox();
  t.on('error', errors.push);
  const handler = new Inbox();
  t.subscribe('shop.Order', handler.push);
  await subscribed(socket2, 7);
  socket2.deliver([35, 0, { subscription: 7, reason: 'wamp.error.gone' }]);
  assert.equal((await errors.next()).uri, 'telegraphy.error.subscription_revoked');
  socket2.deliver(event(7, order('create')));
  socket2.deliver([3, { message: 'replaced' }, 'telegraphy.error.session_replaced']);
  assert.equal((await errors.next()).uri, 'telegraphy.error.session_replaced');
  assert.equal(handler.pending, 0, 'no event after the revocation');
  await join();
  t.close();
});

test('heartbeat: an unanswered call declares the connection dead and reconnects', async () => {
  const t = client({ heartbeat: { interval: 5, timeout: 20 } });
  const errors = new Inbox();
  t.on('error', errors.push);
  t.connect();
  const [socket] = await join();
  const call = await socket.sent.next('the heartbeat CALL');
  assert.deepEqual([call[0], call[3]], [48, 'telegraphy.subscriptions']);
  socket.deliver([8, 48, call[1], {}, 'wamp.error.no_such_procedure']); // an answer all the same
  const second = await socket.sent.next('the next heartbeat CALL');
  assert.equal(second[0], 48);
  assert.equal((await errors.next()).uri, 'telegraphy.error.heartbeat_timeout');
  assert.ok(socket.closed);
  await join();
  t.close();
});

test('a failed handshake retries with backoff and gives up after maxAttempts', async () => {
  const t = client({ reconnect: { ...FAST, maxAttempts: 2 } });
  const errors = new Inbox();
  t.on('error', errors.push);
  t.connect();
  for (let i = 0; i < 3; i++) (await FakeSocket.created.next('a socket')).lose();
  assert.equal((await errors.next()).uri, 'telegraphy.error.gave_up');
  assert.equal(t.state, 'closed');
  assert.throws(() => new Telegraphy({ WebSocket: FakeSocket }).connect(), /no url/);
});

// -- recovery: positions, resume with positions, reports, persistent, since, history ------

const at = (offset, epoch = 'e1') => ({ offset, epoch });
const positioned = (subscription, envelope, position, extra = {}) => [36, subscription, 600 + position.offset, { ...position, ...extra }, [envelope]];

/** A client with `name` subscribed (and its socket), recording `recovered`, `gap` and `missed`. */
async function recording(name = 'shop.Order', options = {}, clientOptions = {}) {
  const t = client(clientOptions);
  const handler = new Inbox();
  const seen = { recovered: new Inbox(), gap: new Inbox(), missed: new Inbox() };
  const subscription = t.subscribe(name, handler.push, options);
  const onSubscription = { recovered: new Inbox(), gap: new Inbox() };
  subscription.on('recovered', onSubscription.recovered.push).on('gap', onSubscription.gap.push);
  for (const kind of Object.keys(seen)) t.on(kind, seen[kind].push);
  const [socket] = await join({ client_id: 'client-1', client_expires: 2e9, resumed: false });
  const subscribe = await subscribed(socket, 7);
  return { t, socket, subscribe, handler, seen, onSubscription, subscription };
}

test('positions: an event at or before the kept position of its topic and epoch is dropped', async () => {
  const { t, socket, handler } = await recording('shop.*');
  const other = 'telegraphy.event.shop.Other';
  socket.deliver(positioned(7, order('create', 1), at(1), { topic: TOPIC }));
  socket.deliver(positioned(7, order('update', 2), at(2), { topic: TOPIC }));
  socket.deliver(positioned(7, order('update', 1), at(2), { topic: TOPIC })); // a duplicate
  socket.deliver(positioned(7, order('update', 9), at(1), { topic: other })); // another topic
  socket.deliver(positioned(7, order('delete', 3), at(1, 'e2'), { topic: TOPIC })); // history lost
  socket.deliver(event(7, order('create', 4))); // no position (a meta event): delivered
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push((await handler.next()).data.id);
  assert.deepEqual(ids, [1, 2, 9, 3, 4]);
  assert.equal(handler.pending, 0);
  t.close();
});

test('resume: HELLO carries the positions; replayed events, then the report as recovered', async () => {
  const { t, socket, handler, seen, onSubscription } = await recording();
  socket.deliver(positioned(7, order('create', 1), at(4)));
  await handler.next();
  socket.lose();
  const restored = [{ id: 7, topic: TOPIC, match: 'exact' }];
  const [socket2, hello] = await join({ client_id: 'client-1', resumed: true, subscriptions: restored, missed_events: 'recovering' });
  assert.deepEqual(hello[2].authextra, {
    previous_session: 'client-1',
    recover: { positions: { [TOPIC]: at(4) } },
  });
  socket2.deliver(positioned(7, order('update', 5), at(5), { recovered: true }));
  socket2.deliver([36, 7, 900, { recovery: [{ topic: TOPIC, offset: 5, epoch: 'e1', recovered: 1, gap: null }] }]);
  socket2.deliver(positioned(7, order('update', 5), at(5))); // live duplicate of the replayed one
  socket2.deliver(positioned(7, order('delete', 6), at(6)));
  assert.deepEqual(await onSubscription.recovered.next(), { name: 'shop.Order', topic: TOPIC, count: 1 });
  assert.deepEqual(await seen.recovered.next(), { name: 'shop.Order', topic: TOPIC, count: 1 });
  assert.deepEqual((await handler.next()).data.id, 5);
  assert.deepEqual((await handler.next()).data.id, 6, 'the report is no event, the duplicate dropped');
  assert.equal(handler.pending, 0);
  assert.equal(seen.missed.pending, 0, "'recovering' is not reported as missed");
  t.close();
});

test('a gap is reported with its reason; the report moves the position so it is not reported again', async () => {
  const { t, socket, handler, seen, onSubscription } = await recording();
  socket.deliver(positioned(7, order('create', 1), at(3)));
  await handler.next();
  socket.lose();
  const restored = [{ id: 7, topic: TOPIC, match: 'exact' }];
  const [socket2] = await join({ client_id: 'client-1', resumed: true, subscriptions: restored, missed_events: 'recovering' });
  socket2.deliver([36, 7, 901, { recovery: [{ topic: TOPIC, offset: 2500, epoch: 'e1', recovered: 0, gap: 'too_many' }] }]);
  const gap = { name: 'shop.Order', topic: TOPIC, reason: 'too_many', offset: 2500, epoch: 'e1' };
  assert.deepEqual(await onSubscription.gap.next(), gap);
  assert.deepEqual(await seen.gap.next(), gap);
  socket2.deliver(positioned(7, order('update', 2), at(2500))); // at the report's position: had
  socket2.deliver(positioned(7, order('update', 3), at(2501)));
  assert.equal((await handler.next()).data.id, 3);
  socket2.lose();
  const [, hello] = await join({ client_id: 'client-1', resumed: true, subscriptions: restored, missed_events: 'recovering' });
  assert.deepEqual(hello[2].authextra.recover, { positions: { [TOPIC]: at(2501) } });
  assert.equal(seen.recovered.pending + handler.pending, 0);
  t.close();
});

test('a refused resume resubscribes with recover positions; missed "unknown" stays for what cannot be recovered', async () => {
  const { t, socket, handler, seen } = await recording();
  socket.deliver(positioned(7, order('create', 1), at(8)));
  await handler.next();
  socket.lose();
  let retry = await FakeSocket.created.next('the resuming socket');
  retry.open();
  await retry.sent.next('HELLO');
  retry.deliver([3, { message: 'unknown or expired previous_session' }, 'wamp.error.authentication_denied']);
  const [fresh, hello] = await join({ client_id: 'client-2', resumed: false });
  assert.deepEqual(hello[2].authextra, {});
  const subscribe = await subscribed(fresh, 11);
  assert.deepEqual(subscribe.slice(2), [{ recover: { positions: { [TOPIC]: at(8) } } }, TOPIC]);
  assert.equal((await seen.missed.next()).reason, 'not-resumed');
  fresh.lose();
  await join({ client_id: 'client-2', resumed: true, subscriptions: [{ id: 11, topic: TOPIC, match: 'exact' }], missed_events: 'unknown' });
  assert.deepEqual(await seen.missed.next(), { reason: 'unknown' });
  t.close();
});

test('persistent: the SUBSCRIBE option, from subscribe and register, and added to a live subscription', async () => {
  const t = client();
  t.subscribe('shop.Order', undefined, { persistent: true });
  t.register('shop.Cart', () => {}, { persistent: true });
  const plain = t.subscribe('shop.Plain');
  const [socket] = await join();
  assert.deepEqual((await subscribed(socket, 1)).slice(2), [{ persistent: true }, TOPIC]);
  assert.deepEqual((await subscribed(socket, 2)).slice(2), [{ persistent: true }, 'telegraphy.event.shop.Cart']);
  assert.deepEqual((await subscribed(socket, 3)).slice(2), [{}, 'telegraphy.event.shop.Plain']);
  await plain.ready;
  t.subscribe('shop.Plain', undefined, { persistent: true });
  const again = await subscribed(socket, 3);
  assert.deepEqual(again.slice(2), [{ persistent: true }, 'telegraphy.event.shop.Plain'], 'no recover: it is live');
  t.close();
});

test('since: the first SUBSCRIBE of each subscription asks for what was published since the page read its data', async () => {
  const since = 1767268800.25;
  const t = client({ since });
  const handler = new Inbox();
  t.subscribe('shop.Order', handler.push);
  const [socket] = await join({ client_id: 'c', resumed: false });
  assert.deepEqual((await subscribed(socket, 1)).slice(2), [{ recover: { since } }, TOPIC]);
  t.subscribe('shop.*', undefined, { since: since + 1 });
  assert.deepEqual((await subscribed(socket, 2)).slice(2), [{ match: 'prefix', recover: { since: since + 1 } }, 'telegraphy.event.shop.']);
  t.subscribe('shop.Later');
  const later = await subscribed(socket, 3);
  assert.deepEqual(later.slice(2), [{}, 'telegraphy.event.shop.Later'], 'made after the page loaded: no since');
  socket.deliver([36, 1, 902, { recovery: [{ topic: TOPIC, offset: 0, epoch: '', recovered: 0, gap: null }] }]);
  socket.lose();
  const [, hello] = await join({ client_id: 'c', resumed: true, subscriptions: [], missed_events: 'none' });
  assert.deepEqual(hello[2].authextra.recover, { positions: { [TOPIC]: at(0, '') } }, 'since only once');
  t.close();

  // A page load resuming the client id in its cookie sends its render time with the resume.
  const store = { load: () => 'kept', save() {}, clear() {} };
  const reloaded = client({ since, store });
  reloaded.subscribe('shop.Order');
  const [s2, hello2] = await join({ client_id: 'kept', resumed: true, subscriptions: [{ id: 4, topic: TOPIC, match: 'exact' }], missed_events: 'recovering' });
  assert.deepEqual(hello2[2].authextra, { previous_session: 'kept', recover: { since } });
  reloaded.close();
  assert.equal((await s2.sent.next('GOODBYE'))[0], 6, 'no SUBSCRIBE: restored');

  // Registered before configure() brought the page's config: the SUBSCRIBE still has it.
  const late = client();
  late.register('shop.Order', () => {});
  late.configure({ since });
  const [s3] = await join();
  assert.deepEqual((await subscribed(s3, 5))[2], { recover: { since } });
  late.close();
});

test('history: telegraphy.history for an event or a channel resolves to the envelopes', async () => {
  const t = client();
  t.connect();
  const [socket] = await join();
  const events = t.history('shop.Order', 2);
  const call = await socket.sent.next('CALL');
  assert.deepEqual([call[0], call[3], call[4]], [48, 'telegraphy.history', [TOPIC, 2]]);
  const result = { topic: TOPIC, offset: 9, epoch: 'e1', events: [{ offset: 8, publication: 1, args: [order('create', 8)], kwargs: {} }, { offset: 9, publication: 2, args: [order('update', 8)], kwargs: {} }] };
  socket.deliver([50, call[1], {}, [result]]);
  assert.deepEqual(await events, [order('create', 8), order('update', 8)]);

  const messages = t.channel('chat.room-1').history();
  const call2 = await socket.sent.next('CALL');
  assert.deepEqual(call2[4], ['telegraphy.channel.chat.room-1', 100]);
  socket.deliver([8, 48, call2[1], {}, 'wamp.error.not_authorized', ['no']]);
  assert.equal((await messages.catch((e) => e)).uri, 'wamp.error.not_authorized');
  await assert.rejects(t.history('shop.*'), TypeError);
  t.close();
});

test('user: a client id kept for another user is not resumed; the same user resumes it', async () => {
  const saved = [];
  const store = { value: null, load() { return this.value; }, save(v) { saved.push(v); this.value = v; }, clear() { this.value = null; } };
  const anonymous = client({ store, user: null });
  anonymous.connect();
  await join({ client_id: 'anon-client', resumed: false });
  assert.deepEqual(saved, ['anon-client '], 'kept with whom it was given to');
  anonymous.close();

  // Signed in since: the page brings a token for user 7, and starts afresh.
  const signedIn = client({ store });
  signedIn.configure({ token: 'tg1.user7', user: '7' });
  const socket = await FakeSocket.created.next('a socket');
  socket.open();
  assert.deepEqual((await socket.sent.next('HELLO'))[2].authextra, {}, 'no previous_session');
  socket.deliver([4, 'ticket', {}]);
  await socket.sent.next('AUTHENTICATE');
  const opened = when(signedIn, 'open');
  socket.deliver([2, 2, { authid: '7', authmethod: 'ticket', authextra: { client_id: 'user7-client', resumed: false } }]);
  await opened;
  assert.equal(store.value, 'user7-client 7');
  signedIn.close();

  // A reload by the same user resumes; a client id kept without its user is tried as before.
  const reloaded = client({ store });
  reloaded.configure({ token: 'tg1.user7-again', user: '7' });
  const again = await FakeSocket.created.next('a socket');
  again.open();
  assert.deepEqual((await again.sent.next('HELLO'))[2].authextra, { previous_session: 'user7-client' });
  reloaded.close();
  store.value = 'legacy';
  const legacy = client({ store, user: '8' });
  legacy.connect();
  const [, hello] = await join({ client_id: 'legacy', resumed: true, subscriptions: [] });
  assert.deepEqual(hello[2].authextra, { previous_session: 'legacy' });
  legacy.close();
});

test('debug: a refused subscription and an event name the app does not define are warned about', async (t) => {
  const warnings = [];
  t.mock.method(console, 'warn', (message) => warnings.push(message));
  const events = ['shop.Order', 'shop.Invoice'];
  const page = client({ debug: true, events });
  page.subscribe('shop.Order');
  page.subscribe('shop.*');
  page.subscribe('shop.Ordr');
  page.channel('user.7').subscribe();
  const [socket] = await join();
  await subscribed(socket, 1);
  await subscribed(socket, 2);
  const typo = await socket.sent.next('SUBSCRIBE');
  socket.deliver([8, 32, typo[1], {}, 'wamp.error.not_authorized', ['not authorized to subscribe to telegraphy.event.shop.Ordr']]);
  await subscribed(socket, 4);
  assert.deepEqual(warnings, [
    'Telegraphy: no event named "shop.Ordr"; the app defines shop.Order, shop.Invoice',
    'Telegraphy: subscription to "shop.Ordr" refused: wamp.error.not_authorized: not authorized to subscribe to telegraphy.event.shop.Ordr',
  ]);
  page.close();

  // Without debug: silent.
  warnings.length = 0;
  const quiet = client({ events });
  quiet.subscribe('shop.Ordr').ready.catch(() => {});
  const [s2] = await join();
  const refused = await s2.sent.next('SUBSCRIBE');
  s2.deliver([8, 32, refused[1], {}, 'wamp.error.not_authorized', ['no']]);
  quiet.close();
  await s2.sent.next('GOODBYE');
  assert.deepEqual(warnings, []);
});

test('presence: the SUBSCRIBE option, join and leave from the presence topic, and the member list', async () => {
  const t = client();
  const room = t.channel('chat.room-1');
  room.subscribe(() => {}, { presence: true });
  const seen = new Inbox();
  room.on('join', (e) => seen.push(['join', e.member.user, e.count]));
  room.on('leave', (e) => seen.push(['leave', e.member.user, e.count]));
  const [socket] = await join();
  assert.deepEqual((await subscribed(socket, 1)).slice(2), [{ presence: true }, 'telegraphy.channel.chat.room-1']);
  assert.deepEqual((await subscribed(socket, 2)).slice(2), [{}, 'telegraphy.presence.chat.room-1'], 'one for both');
  const member = (user) => ({ client_id: `c-${user}`, user, info: null });
  socket.deliver([36, 2, 7, {}, [{ kind: 'join', channel: 'chat.room-1', member: member('ann'), count: 1 }]]);
  socket.deliver([36, 2, 8, {}, [{ kind: 'leave', channel: 'chat.room-1', member: member('ann'), count: 0 }]]);
  assert.deepEqual(await seen.next(), ['join', 'ann', 1]);
  assert.deepEqual(await seen.next(), ['leave', 'ann', 0]);

  const members = room.presence();
  const call = await socket.sent.next('CALL');
  assert.deepEqual([call[3], call[4]], ['telegraphy.presence', ['chat.room-1']]);
  socket.deliver([50, call[1], {}, [{ channel: 'chat.room-1', count: 1, members: [member('bob')] }]]);
  assert.deepEqual(await members, [member('bob')]);

  // Asked for on a live subscription: subscribing again makes the client present.
  const plain = t.channel('chat.other');
  plain.subscribe();
  await subscribed(socket, 3);
  plain.subscribe(undefined, { presence: true });
  assert.deepEqual((await subscribed(socket, 3)).slice(2), [{ presence: true }, 'telegraphy.channel.chat.other']);
  t.close();
});

test('presence: the example of docs/presence.rst runs as shown', async () => {
  const page = readFileSync(new URL('../../docs/presence.rst', import.meta.url), 'utf8');
  const [, body] = page.match(/\.\. code-block:: javascript\n\n((?: {3}.*\n|\n)+)/);
  const block = body.replace(/^ {3}/gm, '');
  const logged = [];
  const run = new Function('telegraphy', 'show', 'console', `return (async () => {\n${block}\nreturn members;\n})();`);
  const t = client();
  const done = run(t, () => {}, { log: (line) => logged.push(line) });
  const [socket] = await join();
  assert.deepEqual((await subscribed(socket, 1)).slice(2), [{ presence: true }, 'telegraphy.channel.chat.room-1']);
  await subscribed(socket, 2);
  const call = await socket.sent.next('CALL');
  const ann = { client_id: 'c1', user: 'ann', info: null };
  socket.deliver([36, 2, 7, {}, [{ kind: 'join', channel: 'chat.room-1', member: ann, count: 1 }]]);
  socket.deliver([50, call[1], {}, [{ channel: 'chat.room-1', count: 1, members: [ann] }]]);
  assert.deepEqual(await done, [ann]);
  assert.deepEqual(logged, ['ann joined: 1 here']);
  t.close();
});
