// The client's protocol handling and bookkeeping against a scripted router: a fake socket
// whose side of the conversation each test writes message by message.

import assert from 'node:assert/strict';
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
