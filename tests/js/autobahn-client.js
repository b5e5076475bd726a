// autobahn-js sessions for the tests: join (anonymous or WAMP-CRA) with a chosen serializer,
// and leave cleanly.

import { REALM, requireDependency, within } from './gateway.js';

const autobahn = (await requireDependency('autobahn')).default;

export { autobahn };

// autobahn-js logs every closed connection with console.warn; the tests assert on closes
// themselves, so only other warnings are worth printing.
const warn = autobahn.log.warn;
autobahn.log.warn = (...args) => {
  if (!/connection closed|auto-reconnect/.test(String(args[0]))) warn(...args);
};

const SERIALIZERS = {
  json: () => new autobahn.serializer.JSONSerializer(),
  msgpack: () => new autobahn.serializer.MsgpackSerializer(),
  cbor: () => new autobahn.serializer.CBORSerializer(),
};

/** A join refused by the gateway: `reason` is the ABORT's URI. */
export class JoinFailed extends Error {
  constructor(reason, message) {
    super(`join refused: ${reason}: ${message}`);
    this.reason = reason;
  }
}

/** The WAMP-CRA signature for `secret`, salted when the challenge says so. */
function craSignature(secret, extra) {
  const key = extra.salt
    ? autobahn.auth_cra.derive_key(secret, extra.salt, extra.iterations, extra.keylen)
    : secret;
  return autobahn.auth_cra.sign(key, extra.challenge);
}

/**
 * Join the realm at `url`; with `authid` and `secret`, as a WAMP-CRA backend. Resolves to
 * `{ session, details, serializer, leave() }` once WELCOME arrives; rejects with JoinFailed on
 * ABORT.
 */
export function join(url, { authid, secret, serializer = 'json' } = {}) {
  let opened = false;
  let onClosed;
  const closed = new Promise((r) => (onClosed = r));
  const joined = new Promise((resolve, reject) => {
    const connection = new autobahn.Connection({
      url,
      realm: REALM,
      serializers: [SERIALIZERS[serializer]()],
      max_retries: 0,
      retry_if_unreachable: false,
      ...(authid ? { authid, authmethods: ['wampcra'] } : {}),
      // An autobahn.Error thrown by a callee is the application error a test asked for.
      on_user_error: (error, context) => {
        if (!(error instanceof autobahn.Error)) console.error(context, error);
      },
      onchallenge: (_session, method, extra) => {
        if (method !== 'wampcra') throw new Error(`unexpected challenge ${method}`);
        return craSignature(secret, extra);
      },
    });
    connection.onopen = (session, details) => {
      opened = true;
      resolve({
        session,
        details,
        serializer: details.transport.protocol,
        leave: async () => {
          connection.close();
          await within(closed, 'the autobahn-js session to close');
        },
      });
    };
    connection.onclose = (reason, details) => {
      onClosed();
      if (!opened) reject(new JoinFailed(details.reason ?? reason, details.message));
      return true; // never reconnect: a test decides what happens next
    };
    connection.open();
  });
  return within(joined, `autobahn-js to join as ${authid ?? 'anonymous'} (${serializer})`);
}
