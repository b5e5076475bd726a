// wampy.js sessions for the tests: join (anonymous or WAMP-CRA) with a chosen serializer.

import { REALM, requireDependency, within } from './gateway.js';

const { Wampy } = await requireDependency('wampy');
const { JsonSerializer } = await requireDependency('wampy/JsonSerializer.js');
const { MsgpackSerializer } = await requireDependency('wampy/MsgpackSerializer.js');
const { CborSerializer } = await requireDependency('wampy/CborSerializer.js');
const wampcra = await requireDependency('wampy/wampcra.js');
// Under Node wampy needs a W3C WebSocket class; its README names this one.
const { w3cwebsocket } = (await requireDependency('websocket')).default;

const SERIALIZERS = {
  json: () => new JsonSerializer(),
  msgpack: () => new MsgpackSerializer(),
  cbor: () => new CborSerializer(),
};

/**
 * Join the realm at `url`; with `authid` and `secret`, as a WAMP-CRA backend (wampy's own
 * wampcra plugin answers the challenge). Resolves to `{ client, details, leave() }`; rejects
 * with wampy's AbortError (`errorUri`) when the gateway refuses the join.
 */
export async function join(url, { authid, secret, serializer = 'json' } = {}) {
  const client = new Wampy(url, {
    realm: REALM,
    ws: w3cwebsocket,
    serializer: SERIALIZERS[serializer](),
    autoReconnect: false,
    ...(authid
      ? {
          authid,
          authmethods: ['wampcra'],
          authMode: 'auto',
          authPlugins: { wampcra: wampcra.sign(secret) },
        }
      : {}),
  });
  const details = await within(
    client.connect(),
    `wampy to join as ${authid ?? 'anonymous'} (${serializer})`,
  );
  return {
    client,
    details,
    leave: () => within(client.disconnect(), 'the wampy session to close'),
  };
}
