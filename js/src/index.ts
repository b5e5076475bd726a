// telegraphy-js: the ES module entry point.

export { backoffDelay, RECONNECT_DEFAULTS, type ReconnectOptions } from './backoff';
export {
  HEARTBEAT_PROCEDURE,
  HISTORY_PROCEDURE,
  PRESENCE_PROCEDURE,
  Telegraphy,
  type HeartbeatOptions,
  type OpenInfo,
  type State,
  type TelegraphyEvents,
  type TelegraphyOptions,
  type WebSocketClass,
} from './client';
export {
  ACTION_ATTRIBUTE,
  applyFragment,
  FRAGMENT_ATTRIBUTE,
  fragmentOf,
  liveFragments,
  OBJECT_ATTRIBUTE,
  type Fragment,
} from './fragments';
export { COOKIE, cookieStore, type ClientStore } from './identity';
export type { SocketLike } from './session';
export {
  Channel,
  Subscription,
  type Filter,
  type Gap,
  type GapReason,
  type Handler,
  type Match,
  type Member,
  type Position,
  type PresenceEvent,
  type PublishOptions,
  type Recovered,
  type RecoveryEvents,
  type SubscribeOptions,
  type TEvent,
} from './subscription';
export { WampError } from './wamp';
export { Telegraphy as default } from './client';
