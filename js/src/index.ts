// telegraphy-js: the ES module entry point.

export { backoffDelay, RECONNECT_DEFAULTS, type ReconnectOptions } from './backoff';
export {
  HEARTBEAT_PROCEDURE,
  Telegraphy,
  type HeartbeatOptions,
  type OpenInfo,
  type State,
  type TelegraphyEvents,
  type TelegraphyOptions,
  type WebSocketClass,
} from './client';
export { COOKIE, cookieStore, type ClientStore } from './identity';
export type { SocketLike } from './session';
export {
  Channel,
  Subscription,
  type Handler,
  type Match,
  type PublishOptions,
  type TEvent,
} from './subscription';
export { WampError } from './wamp';
export { Telegraphy as default } from './client';
