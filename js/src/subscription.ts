// What a page holds: subscriptions to events and channels, and the handlers they call.

import { safely } from './emitter';
import type { Dict } from './wamp';

/** An event as the gateway publishes it: the original API's `tEvent`. */
export interface TEvent<Data = any> {
  name: string;
  meta: {
    event_type: string;
    verbose_name?: string | null;
    timestamp: string;
    id?: string;
    [key: string]: unknown;
  };
  data: Data;
}

/** `details` are the WAMP EVENT details (`topic` is set for pattern subscriptions). */
export type Handler<Data = any> = (event: TEvent<Data>, details: Dict) => void;

export type Match = 'exact' | 'prefix';

/** Where a topic's stream stands: `offset` counts its publications, `epoch` names its history. */
export interface Position {
  offset: number;
  epoch: string;
}

/** The gateway replayed `count` events of `topic` missed while the subscription was away. */
export interface Recovered {
  name: string;
  topic: string;
  count: number;
}

export type GapReason = 'too_old' | 'too_many' | 'epoch_changed' | 'invalid_position' | 'unavailable';

/** What was missed on `topic` cannot be replayed; `offset`/`epoch` is where the page now stands. */
export interface Gap {
  name: string;
  topic: string;
  reason: GapReason;
  offset?: number;
  epoch?: string;
}

export interface RecoveryEvents {
  recovered: Recovered;
  gap: Gap;
}

/**
 * A filter over the event's data and meta, evaluated by the gateway (docs/filters.rst):
 * `{status: 'paid', total__gt: 100}`, `{or: [{customer__id: 3}, {meta__event_type: 'delete'}]}`.
 */
export type Filter = Record<string, unknown>;

export interface SubscribeOptions {
  /** Ask the gateway to remember where this subscription stood when the client left. */
  persistent?: boolean;
  /** Only the events this filter lets through (the gateway ANDs it with the token's). */
  filter?: Filter;
  /** Unix seconds: also replay what was published from then on (the page's render time). */
  since?: number;
  /** Channels: be present (listed by `presence()`, announced by 'join' and 'leave'). */
  presence?: boolean;
}

/** A client present in a channel: its user (null: anonymous) and the info its token carries. */
export interface Member {
  client_id: string;
  user: string | null;
  info: unknown;
}

/** What `channel.on('join' | 'leave', fn)` gets: who came or went, and how many are present. */
export interface PresenceEvent {
  kind: 'join' | 'leave';
  channel: string;
  member: Member;
  count: number;
}

/** Where a name is published: `app.Model` is one topic, `app.*` every topic under `app.`. */
export function topicOf(name: string, prefix: string): { topic: string; match: Match } {
  if (typeof name !== 'string' || name === '' || /\s|#/.test(name)) {
    throw new TypeError(`Telegraphy: invalid event or channel name ${JSON.stringify(name)}`);
  }
  if (name === '*') return { topic: `${prefix}.`, match: 'prefix' };
  if (name.endsWith('.*')) return { topic: `${prefix}.${name.slice(0, -1)}`, match: 'prefix' };
  return { topic: `${prefix}.${name}`, match: 'exact' };
}

/** JSON with sorted keys: one text for equal filters, whatever order their keys came in. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const dict = value as Dict;
    return `{${Object.keys(dict).sort().map((k) => `${JSON.stringify(k)}:${stableJson(dict[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The filter that matters: none for an empty one. */
export const filterOf = (filter: unknown): Filter | undefined =>
  filter && typeof filter === 'object' && Object.keys(filter).length ? (filter as Filter) : undefined;

export const keyOf = (topic: string, match: string, filter?: Filter): string =>
  filter ? `${match} ${topic} ${stableJson(filter)}` : `${match} ${topic}`;

interface Owner {
  release(subscription: Subscription): Promise<void>;
}

type Watcher = (info: Recovered | Gap) => void;
type Listener = (...args: never[]) => void;
const isRecovery = (type: string): type is keyof RecoveryEvents => type === 'recovered' || type === 'gap';

/**
 * One subscription of the page to an event name (or a channel). Handlers given to the
 * constructor and to `on('*', fn)` get every event; `on(type, fn)` those whose
 * `meta.event_type` is `type`; `on('recovered' | 'gap', fn)` what recovery after a
 * reconnection found.
 */
export class Subscription<Data = any> {
  /** Settles once the gateway accepted the subscription, or refused it. */
  readonly ready: Promise<void>;
  private handlers: [string, Handler<Data>][] = [];
  private watchers: [keyof RecoveryEvents, Watcher][] = [];
  private settle!: [() => void, (error: Error) => void];

  constructor(
    readonly name: string,
    readonly topic: string,
    readonly match: Match,
    private readonly owner: Owner,
    readonly filter?: Filter,
  ) {
    this.ready = new Promise((resolve, reject) => (this.settle = [resolve, reject]));
    this.ready.catch(() => {}); // the client reports refusals as 'error' too: never unhandled
  }

  /**
   * Call `handler` for events of type `type` ('create', 'update', 'delete', any, or '*');
   * `on('recovered', fn)` and `on('gap', fn)` for what recovery after a reconnection found.
   */
  on<K extends keyof RecoveryEvents>(type: K, listener: (info: RecoveryEvents[K]) => void): this;
  on(type: string, handler: Handler<Data>): this;
  on(type: string, handler: Listener): this {
    if (isRecovery(type)) this.watchers.push([type, handler as Watcher]);
    else this.handlers.push([type, handler as Handler<Data>]);
    return this;
  }

  /** Remove `handler` (or every handler) for `type` (or for every type). */
  off(type?: string, handler?: Listener): this {
    const keep = ([t, h]: [string, unknown]) =>
      !((type === undefined || t === type) && (handler === undefined || h === handler));
    this.handlers = this.handlers.filter(keep);
    this.watchers = this.watchers.filter(keep);
    return this;
  }

  /** Stop receiving; the WAMP subscription ends when no subscription of the page needs it. */
  unsubscribe(): Promise<void> {
    return this.owner.release(this);
  }

  /** @internal */
  deliver(event: TEvent<Data>, details: Dict): void {
    const type = event?.meta?.event_type ?? (event as unknown as PresenceEvent)?.kind;
    for (const [t, handler] of this.handlers) {
      if (t === '*' || t === type) safely(() => handler(event, details));
    }
  }

  /** @internal */
  notify<K extends keyof RecoveryEvents>(kind: K, info: RecoveryEvents[K]): void {
    for (const [t, watcher] of this.watchers) if (t === kind) safely(() => watcher(info));
  }

  /** @internal */
  settled(error?: Error): void {
    if (error) this.settle[1](error);
    else this.settle[0]();
  }
}

export interface PublishOptions {
  /** Deliver the message to this client's own subscriptions too (default false). */
  echo?: boolean;
  /** `meta.event_type` of the message (default 'message'). */
  eventType?: string;
}

interface ChannelOwner {
  subscribeTo(name: string, prefix: 'channel' | 'presence', handler?: Handler, options?: SubscribeOptions): Subscription;
  publishTo(name: string, topic: string, data: unknown, options: PublishOptions): Promise<void>;
  historyOf(name: string, prefix: 'channel', limit: number): Promise<TEvent[]>;
  presenceOf(name: string): Promise<Member[]>;
}

/** A free-form stream such as `chat.room-1` or `user.42`: subscribe to it, publish on it. */
export class Channel<Data = any> {
  constructor(
    readonly name: string,
    readonly topic: string,
    private readonly owner: ChannelOwner,
  ) {}

  subscribe(handler?: Handler<Data>, options?: SubscribeOptions): Subscription<Data> {
    return this.owner.subscribeTo(this.name, 'channel', handler, options);
  }

  /**
   * `on('join' | 'leave', fn)`: who comes and goes (`fn` gets a PresenceEvent); any other
   * type: the channel's messages of that `meta.event_type`.
   */
  on(type: 'join' | 'leave', handler: (event: PresenceEvent, details: Dict) => void): Subscription;
  on(type: string, handler: Handler<Data>): Subscription<Data>;
  on(type: string, handler: Listener): Subscription {
    const presence = type === 'join' || type === 'leave';
    return this.owner.subscribeTo(this.name, presence ? 'presence' : 'channel').on(type, handler as Handler);
  }

  /** The clients present now (subscribed with `{presence: true}`). */
  presence(): Promise<Member[]> {
    return this.owner.presenceOf(this.name);
  }

  /** Publish `data` as `{name, meta: {event_type: 'message', timestamp, id}, data}`. */
  publish(data: Data, options: PublishOptions = {}): Promise<void> {
    return this.owner.publishTo(this.name, this.topic, data, options);
  }

  /** The channel's last `limit` messages the gateway keeps, oldest first. */
  history(limit = 100): Promise<TEvent<Data>[]> {
    return this.owner.historyOf(this.name, 'channel', limit);
  }
}
