// wampy.js and autobahn-js talking to each other through one gateway, over different serializers.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import * as ab from './autobahn-client.js';
import { BACKEND_ID, BACKEND_SECRET, Inbox, rejection, startGateway, within } from './gateway.js';
import * as wy from './wampy-client.js';

let gateway;
const open = [];

async function joined(client, options) {
  const session = await client.join(gateway.url, options);
  open.push(session);
  return session;
}

const backend = (client, serializer) =>
  joined(client, { authid: BACKEND_ID, secret: BACKEND_SECRET, serializer });

/** An autobahn-js subscription whose inbox collects `{ args, kwargs, details }`. */
async function autobahnInbox(session, topic) {
  const inbox = new Inbox();
  await within(
    session.subscribe(topic, (args, kwargs, details) => inbox.push({ args, kwargs, details })),
    `autobahn-js SUBSCRIBED for ${topic}`,
  );
  return inbox;
}

/** A wampy subscription whose inbox collects `{ details, argsList, argsDict }`. */
async function wampyInbox(client, topic) {
  const inbox = new Inbox();
  await within(client.subscribe(topic, inbox.push), `wampy SUBSCRIBED for ${topic}`);
  return inbox;
}

before(async () => {
  gateway = await startGateway();
});

after(async () => {
  await Promise.allSettled(open.map((s) => s.leave()));
  await gateway?.stop();
});

describe('wampy.js <-> autobahn-js', () => {
  test('an event published by wampy (json) reaches an autobahn-js subscriber (msgpack)', async () => {
    const subscriber = await backend(ab, 'msgpack');
    const publisher = await backend(wy, 'json');
    const inbox = await autobahnInbox(subscriber.session, 'app.interop.w2a');

    await within(
      publisher.client.publish('app.interop.w2a', { argsList: ['from wampy', 7], argsDict: { n: 1.5 } }),
      'PUBLISHED',
    );
    const event = await inbox.next('the EVENT at autobahn-js');
    assert.deepEqual(event.args, ['from wampy', 7]);
    assert.deepEqual(event.kwargs, { n: 1.5 });
  });

  test('an event published by autobahn-js (json) reaches a wampy subscriber (cbor)', async () => {
    const subscriber = await backend(wy, 'cbor');
    const publisher = await backend(ab, 'json');
    const inbox = await wampyInbox(subscriber.client, 'app.interop.a2w');

    await within(
      publisher.session.publish('app.interop.a2w', ['from autobahn'], { ok: true }, { acknowledge: true }),
      'PUBLISHED',
    );
    const event = await inbox.next('the EVENT at wampy');
    assert.deepEqual(event.argsList, ['from autobahn']);
    assert.deepEqual(event.argsDict, { ok: true });
  });

  test("wampy's msgpack `undefined` reaches a json subscriber as JSON.stringify would write it", async () => {
    const subscriber = await backend(ab, 'json');
    const publisher = await backend(wy, 'msgpack');
    const inbox = await autobahnInbox(subscriber.session, 'app.interop.undefined');

    await within(
      publisher.client.publish('app.interop.undefined', {
        argsList: [1, undefined],
        argsDict: { kept: 'yes', dropped: undefined },
      }),
      'PUBLISHED',
    );
    const event = await inbox.next('the EVENT at autobahn-js');
    assert.deepEqual(event.args, [1, null]);
    assert.deepEqual(event.kwargs, { kept: 'yes' });
  });

  test('wampy calls an autobahn-js callee; autobahn-js calls a wampy callee that fails', async () => {
    const abPeer = await backend(ab, 'msgpack');
    const wyPeer = await backend(wy, 'json');

    await within(
      abPeer.session.register('app.interop.greet', (args, kwargs) => {
        return new ab.autobahn.Result([`hello ${args[0]}`], { polite: kwargs.polite === true });
      }),
      'REGISTERED at autobahn-js',
    );
    const greeting = await within(
      wyPeer.client.call('app.interop.greet', { argsList: ['wampy'], argsDict: { polite: true } }),
      'RESULT at wampy',
    );
    assert.deepEqual(greeting.argsList, ['hello wampy']);
    assert.deepEqual(greeting.argsDict, { polite: true });

    await within(
      wyPeer.client.register('app.interop.refuse', () => {
        const error = new Error('refused');
        throw Object.assign(error, { error: 'app.error.refused', argsList: ['no'], argsDict: { code: 7 } });
      }),
      'REGISTERED at wampy',
    );
    const refused = await rejection(abPeer.session.call('app.interop.refuse', []), 'a call to a failing wampy callee');
    assert.equal(refused.error, 'app.error.refused');
    assert.deepEqual(refused.args, ['no']);
    assert.deepEqual(refused.kwargs, { code: 7 });
  });

  test('an anonymous wampy reader gets the public event an autobahn-js backend publishes', async () => {
    const reader = await joined(wy, { serializer: 'msgpack' });
    const publisher = await backend(ab, 'cbor');
    const inbox = await wampyInbox(reader.client, 'telegraphy.public.news');

    await within(
      publisher.session.publish('telegraphy.public.news', ['extra!'], {}, { acknowledge: true }),
      'PUBLISHED',
    );
    assert.deepEqual((await inbox.next('the public EVENT at wampy')).argsList, ['extra!']);
  });
});
