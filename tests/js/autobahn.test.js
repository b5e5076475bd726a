// autobahn-js (npm `autobahn`) against a real gateway: a conformant client must work unchanged.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { autobahn, join, JoinFailed } from './autobahn-client.js';
import { BACKEND_ID, BACKEND_SECRET, Inbox, rejection, startGateway, within } from './gateway.js';

let gateway;
const open = [];

async function backend(serializer = 'json') {
  const joined = await join(gateway.url, { authid: BACKEND_ID, secret: BACKEND_SECRET, serializer });
  open.push(joined);
  return joined;
}

async function anonymous(serializer = 'json') {
  const joined = await join(gateway.url, { serializer });
  open.push(joined);
  return joined;
}

/** Subscribe and collect `{ args, kwargs, details }` for each event. */
async function subscribe(session, topic, options) {
  const inbox = new Inbox();
  const subscription = await within(
    session.subscribe(topic, (args, kwargs, details) => inbox.push({ args, kwargs, details }), options),
    `SUBSCRIBED for ${topic}`,
  );
  return { inbox, subscription };
}

before(async () => {
  gateway = await startGateway();
});

after(async () => {
  await Promise.allSettled(open.filter((j) => j.session.isOpen).map((j) => j.leave()));
  await gateway?.stop();
});

describe('autobahn-js', () => {
  for (const serializer of ['json', 'msgpack', 'cbor']) {
    test(`publish/subscribe with args and kwargs over ${serializer}`, async () => {
      const subscriber = await backend(serializer);
      const publisher = await backend(serializer);
      assert.equal(subscriber.serializer, `wamp.2.${serializer}`);
      const { inbox } = await subscribe(subscriber.session, 'app.orders.created');

      const publication = await within(
        publisher.session.publish('app.orders.created', [1, 'two', { three: 3 }], { id: 42, ok: true }, { acknowledge: true }),
        'PUBLISHED',
      );
      assert.equal(typeof publication.id, 'number');

      const event = await inbox.next('the EVENT');
      assert.deepEqual(event.args, [1, 'two', { three: 3 }]);
      assert.deepEqual(event.kwargs, { id: 42, ok: true });
      assert.equal(event.details.publication, publication.id);
    });
  }

  test('an event crosses serializers: msgpack publisher, json subscriber', async () => {
    const subscriber = await backend('json');
    const publisher = await backend('msgpack');
    const { inbox } = await subscribe(subscriber.session, 'app.mixed');
    await within(publisher.session.publish('app.mixed', ['é', 1.5], { nested: { list: [1, 2] } }, { acknowledge: true }), 'PUBLISHED');
    const event = await inbox.next();
    assert.deepEqual(event.args, ['é', 1.5]);
    assert.deepEqual(event.kwargs, { nested: { list: [1, 2] } });
  });

  test('call/register with args and kwargs, over json and msgpack', async () => {
    const callee = await backend('msgpack');
    const caller = await backend('json');
    const invocations = new Inbox();
    await within(
      callee.session.register('app.math.add', (args, kwargs, details) => {
        invocations.push({ args, kwargs, details });
        const sum = args.reduce((a, b) => a + b, 0) * (kwargs.scale ?? 1);
        return new autobahn.Result([sum], { terms: args.length });
      }),
      'REGISTERED',
    );

    const result = await within(caller.session.call('app.math.add', [1, 2, 3], { scale: 10 }), 'RESULT');
    assert.deepEqual(result.args, [60]);
    assert.deepEqual(result.kwargs, { terms: 3 });
    const invocation = await invocations.next('the INVOCATION');
    assert.deepEqual(invocation.args, [1, 2, 3]);
    assert.deepEqual(invocation.kwargs, { scale: 10 });

    // A plain return value is a single positional result.
    await within(callee.session.register('app.echo', (args) => args[0]), 'REGISTERED');
    assert.equal(await within(caller.session.call('app.echo', ['hi']), 'RESULT'), 'hi');
  });

  test('WAMP-CRA: the right secret joins as the backend, a wrong one is refused', async () => {
    const joined = await backend();
    assert.equal(joined.details.authid, BACKEND_ID);
    assert.equal(joined.details.authrole, 'backend');
    assert.equal(joined.details.authmethod, 'wampcra');
    assert.equal(typeof joined.session.id, 'number');

    const wrong = await rejection(
      join(gateway.url, { authid: BACKEND_ID, secret: 'not-the-secret' }),
      'a join with a wrong secret',
    );
    assert.ok(wrong instanceof JoinFailed, String(wrong));
    assert.equal(wrong.reason, 'wamp.error.authentication_denied');

    const unknown = await rejection(
      join(gateway.url, { authid: 'nobody', secret: BACKEND_SECRET }),
      'a join with an unknown authid',
    );
    assert.equal(unknown.reason, 'wamp.error.authentication_denied');
  });

  test('pattern subscriptions receive the concrete topic in details', async () => {
    const subscriber = await backend();
    const publisher = await backend();
    const prefix = await subscribe(subscriber.session, 'app.rooms.', { match: 'prefix' });
    const wildcard = await subscribe(subscriber.session, 'app..temperature', { match: 'wildcard' });

    const publish = (topic, args) =>
      within(publisher.session.publish(topic, args, {}, { acknowledge: true }), `PUBLISHED ${topic}`);
    await publish('app.rooms.kitchen.light', ['on']); // prefix only
    await publish('app.cellar.temperature', [12.5]); // wildcard only
    await publish('app.rooms.temperature', [20]); // both

    // Events reach one session in order, so each inbox holds exactly its two matches.
    const byPrefix = [await prefix.inbox.next(), await prefix.inbox.next()];
    assert.deepEqual(
      byPrefix.map((e) => [e.details.topic, e.args]),
      [['app.rooms.kitchen.light', ['on']], ['app.rooms.temperature', [20]]],
    );
    const byWildcard = [await wildcard.inbox.next(), await wildcard.inbox.next()];
    assert.deepEqual(
      byWildcard.map((e) => [e.details.topic, e.args]),
      [['app.cellar.temperature', [12.5]], ['app.rooms.temperature', [20]]],
    );
  });

  test('errors: no such procedure, and an application error with its URI, args and kwargs', async () => {
    const callee = await backend();
    const caller = await backend();

    const missing = await rejection(caller.session.call('app.does.not.exist', [1]), 'a call to nothing');
    assert.equal(missing.error, 'wamp.error.no_such_procedure');

    await within(
      callee.session.register('app.validate', (args) => {
        throw new autobahn.Error('app.error.invalid_order', [`bad quantity ${args[0]}`], { field: 'quantity' });
      }),
      'REGISTERED',
    );
    const refused = await rejection(caller.session.call('app.validate', [-1]), 'a failing call');
    assert.equal(refused.error, 'app.error.invalid_order');
    assert.deepEqual(refused.args, ['bad quantity -1']);
    assert.deepEqual(refused.kwargs, { field: 'quantity' });
  });

  test('anonymous: receives public events a backend publishes; may not publish or read private topics', async () => {
    const reader = await anonymous('msgpack');
    assert.equal(reader.details.authrole, 'anonymous');
    const publisher = await backend();
    const news = await subscribe(reader.session, 'telegraphy.public.news');
    const scores = await subscribe(reader.session, 'telegraphy.public.sports.scores');

    await within(publisher.session.publish('telegraphy.public.news', ['headline'], { at: 1 }, { acknowledge: true }), 'PUBLISHED');
    const headline = await news.inbox.next('the public EVENT');
    assert.deepEqual(headline.args, ['headline']);
    assert.deepEqual(headline.kwargs, { at: 1 });

    await within(publisher.session.publish('telegraphy.public.sports.scores', [3, 1], {}, { acknowledge: true }), 'PUBLISHED');
    assert.deepEqual((await scores.inbox.next('the prefix-public EVENT')).args, [3, 1]);

    const publish = await rejection(
      reader.session.publish('telegraphy.public.news', ['spoof'], {}, { acknowledge: true }),
      'an anonymous publish',
    );
    assert.equal(publish.error, 'wamp.error.not_authorized');

    const privateTopic = await rejection(reader.session.subscribe('app.orders.created', () => {}), 'an anonymous private subscribe');
    assert.equal(privateTopic.error, 'wamp.error.not_authorized');

    const call = await rejection(reader.session.call('app.math.add', [1, 2]), 'an anonymous call');
    assert.equal(call.error, 'wamp.error.not_authorized');
  });
});
