// wampy.js against a real gateway: a conformant client must work unchanged.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { BACKEND_ID, BACKEND_SECRET, Inbox, rejection, startGateway, within } from './gateway.js';
import { join } from './wampy-client.js';

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

/** Subscribe and collect wampy's `{ details, argsList, argsDict }` for each event. */
async function subscribe(client, topic, options) {
  const inbox = new Inbox();
  await within(client.subscribe(topic, inbox.push, options), `SUBSCRIBED for ${topic}`);
  return inbox;
}

/** An error a wampy callee throws: wampy sends its `error` URI, `argsList` and `argsDict`. */
function applicationError(uri, argsList, argsDict) {
  return Object.assign(new Error(uri), { error: uri, argsList, argsDict });
}

before(async () => {
  gateway = await startGateway();
});

after(async () => {
  await Promise.allSettled(open.filter((j) => j.client.getSessionId()).map((j) => j.leave()));
  await gateway?.stop();
});

describe('wampy.js', () => {
  for (const serializer of ['json', 'msgpack', 'cbor']) {
    test(`publish/subscribe with args and kwargs over ${serializer}`, async () => {
      const subscriber = await backend(serializer);
      const publisher = await backend(serializer);
      const inbox = await subscribe(subscriber.client, 'app.orders.created');

      const published = await within(
        publisher.client.publish('app.orders.created', {
          argsList: [1, 'two', { three: 3 }],
          argsDict: { id: 42, ok: true },
        }),
        'PUBLISHED',
      );
      // msgpackr decodes a 64-bit integer (most WAMP IDs) as a BigInt.
      assert.ok(Number.isSafeInteger(Number(published.publicationId)), String(published.publicationId));
      assert.ok(published.publicationId > 0);

      const event = await inbox.next('the EVENT');
      assert.deepEqual(event.argsList, [1, 'two', { three: 3 }]);
      assert.deepEqual(event.argsDict, { id: 42, ok: true });
    });
  }

  test('call/register with args and kwargs, over json and msgpack', async () => {
    const callee = await backend('msgpack');
    const caller = await backend('json');
    const invocations = new Inbox();
    await within(
      callee.client.register('app.math.add', ({ argsList, argsDict, details }) => {
        invocations.push({ argsList, argsDict, details });
        const sum = argsList.reduce((a, b) => a + b, 0) * (argsDict.scale ?? 1);
        return { argsList: [sum], argsDict: { terms: argsList.length } };
      }),
      'REGISTERED',
    );

    const result = await within(
      caller.client.call('app.math.add', { argsList: [1, 2, 3], argsDict: { scale: 10 } }),
      'RESULT',
    );
    assert.deepEqual(result.argsList, [60]);
    assert.deepEqual(result.argsDict, { terms: 3 });
    const invocation = await invocations.next('the INVOCATION');
    assert.deepEqual(invocation.argsList, [1, 2, 3]);
    assert.deepEqual(invocation.argsDict, { scale: 10 });

    // An async callee, and a result without kwargs.
    await within(
      callee.client.register('app.echo', async ({ argsList }) => ({ argsList })),
      'REGISTERED',
    );
    const echoed = await within(caller.client.call('app.echo', ['hi', 2]), 'RESULT');
    assert.deepEqual(echoed.argsList, ['hi', 2]);
  });

  test('WAMP-CRA: the right secret joins as the backend, a wrong one is refused', async () => {
    const joined = await backend();
    assert.equal(joined.details.authid, BACKEND_ID);
    assert.equal(joined.details.authrole, 'backend');
    assert.equal(joined.details.authmethod, 'wampcra');
    assert.equal(typeof joined.client.getSessionId(), 'number');

    const wrong = await rejection(
      join(gateway.url, { authid: BACKEND_ID, secret: 'not-the-secret' }),
      'a join with a wrong secret',
    );
    assert.equal(wrong.errorUri, 'wamp.error.authentication_denied', String(wrong));

    const unknown = await rejection(
      join(gateway.url, { authid: 'nobody', secret: BACKEND_SECRET }),
      'a join with an unknown authid',
    );
    assert.equal(unknown.errorUri, 'wamp.error.authentication_denied', String(unknown));
  });

  test('pattern subscriptions receive the concrete topic in details', async () => {
    const subscriber = await backend();
    const publisher = await backend();
    const prefix = await subscribe(subscriber.client, 'app.rooms', { match: 'prefix' });
    const wildcard = await subscribe(subscriber.client, 'app..temperature', { match: 'wildcard' });

    const publish = (topic, argsList) =>
      within(publisher.client.publish(topic, argsList), `PUBLISHED ${topic}`);
    await publish('app.rooms.kitchen.light', ['on']); // prefix only
    await publish('app.cellar.temperature', [12.5]); // wildcard only
    await publish('app.rooms.temperature', [20]); // both

    // Events reach one session in order, so each inbox holds exactly its two matches.
    const byPrefix = [await prefix.next(), await prefix.next()];
    assert.deepEqual(
      byPrefix.map((e) => [e.details.topic, e.argsList]),
      [['app.rooms.kitchen.light', ['on']], ['app.rooms.temperature', [20]]],
    );
    const byWildcard = [await wildcard.next(), await wildcard.next()];
    assert.deepEqual(
      byWildcard.map((e) => [e.details.topic, e.argsList]),
      [['app.cellar.temperature', [12.5]], ['app.rooms.temperature', [20]]],
    );
  });

  test('errors: no such procedure, and an application error with its URI, args and kwargs', async () => {
    const callee = await backend();
    const caller = await backend();

    const missing = await rejection(caller.client.call('app.does.not.exist', [1]), 'a call to nothing');
    assert.equal(missing.errorUri, 'wamp.error.no_such_procedure', String(missing));

    await within(
      callee.client.register('app.validate', ({ argsList }) => {
        throw applicationError('app.error.invalid_order', [`bad quantity ${argsList[0]}`], {
          field: 'quantity',
        });
      }),
      'REGISTERED',
    );
    const refused = await rejection(caller.client.call('app.validate', [-1]), 'a failing call');
    assert.equal(refused.errorUri, 'app.error.invalid_order', String(refused));
    assert.deepEqual(refused.argsList, ['bad quantity -1']);
    assert.deepEqual(refused.argsDict, { field: 'quantity' });
  });

  test('anonymous: receives public events a backend publishes; may not publish or read private topics', async () => {
    const reader = await anonymous('msgpack');
    assert.equal(reader.details.authrole, 'anonymous');
    const publisher = await backend();
    const news = await subscribe(reader.client, 'telegraphy.public.news');
    const scores = await subscribe(reader.client, 'telegraphy.public.sports.scores');

    await within(
      publisher.client.publish('telegraphy.public.news', { argsList: ['headline'], argsDict: { at: 1 } }),
      'PUBLISHED',
    );
    const headline = await news.next('the public EVENT');
    assert.deepEqual(headline.argsList, ['headline']);
    assert.deepEqual(headline.argsDict, { at: 1 });

    await within(publisher.client.publish('telegraphy.public.sports.scores', [3, 1]), 'PUBLISHED');
    assert.deepEqual((await scores.next('the prefix-public EVENT')).argsList, [3, 1]);

    const publish = await rejection(
      reader.client.publish('telegraphy.public.news', ['spoof']),
      'an anonymous publish',
    );
    assert.equal(publish.errorUri, 'wamp.error.not_authorized', String(publish));

    const privateTopic = await rejection(
      reader.client.subscribe('app.orders.created', () => {}),
      'an anonymous private subscribe',
    );
    assert.equal(privateTopic.errorUri, 'wamp.error.not_authorized', String(privateTopic));

    const call = await rejection(reader.client.call('app.math.add', [1, 2]), 'an anonymous call');
    assert.equal(call.errorUri, 'wamp.error.not_authorized', String(call));
  });
});
