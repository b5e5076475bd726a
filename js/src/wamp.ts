// WAMP v2 message codes and the shape checks for what a router may send a client.
// Only the basic profile's client side (subscriber, publisher, caller) is spoken here.

export const HELLO = 1;
export const WELCOME = 2;
export const ABORT = 3;
export const CHALLENGE = 4;
export const AUTHENTICATE = 5;
export const GOODBYE = 6;
export const ERROR = 8;
export const PUBLISH = 16;
export const PUBLISHED = 17;
export const SUBSCRIBE = 32;
export const SUBSCRIBED = 33;
export const UNSUBSCRIBE = 34;
export const UNSUBSCRIBED = 35;
export const EVENT = 36;
export const CALL = 48;
export const RESULT = 50;

export type Dict = Record<string, unknown>;

/** A WAMP error (an ERROR reply, or an ABORT) with its URI, e.g. `wamp.error.not_authorized`. */
export class WampError extends Error {
  readonly uri: string;
  readonly args: unknown[];
  readonly kwargs: Dict;

  constructor(uri: string, args: unknown[] = [], kwargs: Dict = {}) {
    const text = typeof args[0] === 'string' ? `: ${args[0]}` : '';
    super(uri + text);
    this.name = 'WampError';
    this.uri = uri;
    this.args = args;
    this.kwargs = kwargs;
  }
}

/** The type of each leading field, per message the router may send; `+`: args and kwargs may follow. */
const SHAPES: Record<number, string> = {
  [WELCOME]: 'id dict',
  [ABORT]: 'dict uri',
  [CHALLENGE]: 'str dict',
  [GOODBYE]: 'dict uri',
  [ERROR]: 'int id dict uri +',
  [PUBLISHED]: 'id id',
  [SUBSCRIBED]: 'id id',
  [UNSUBSCRIBED]: 'int',
  [EVENT]: 'id id dict +',
  [RESULT]: 'id dict +',
};

const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

const CHECKS: Record<string, (v: unknown) => boolean> = {
  id: isId,
  int: Number.isSafeInteger,
  dict: isDict,
  str: (v) => typeof v === 'string',
  uri: (v) => typeof v === 'string' && v.length > 0,
};

/** Parse one text frame into a message, or explain why it is not one a client accepts. */
export function parse(text: string): unknown[] | string {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return 'a frame is not JSON';
  }
  if (!Array.isArray(message) || !Number.isInteger(message[0])) {
    return 'a message is not an array starting with its type';
  }
  const shape = SHAPES[message[0]];
  if (shape === undefined) return `message type ${message[0]} is not sent to a client`;
  const fields = shape.split(' ');
  const n = fields.length;
  const ok =
    fields.every((check, i) => check === '+' || CHECKS[check](message[i + 1])) &&
    (fields[n - 1] !== '+' || message[n] === undefined || Array.isArray(message[n])) &&
    (fields[n - 1] !== '+' || message[n + 1] === undefined || isDict(message[n + 1]));
  return ok ? message : `malformed message of type ${message[0]}`;
}
