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
export declare function topicOf(name: string, prefix: string): {
    topic: string;
    match: Match;
};
/** JSON with sorted keys: one text for equal filters, whatever order their keys came in. */
export declare function stableJson(value: unknown): string;
/** The filter that matters: none for an empty one. */
export declare const filterOf: (filter: unknown) => Filter | undefined;
export declare const keyOf: (topic: string, match: string, filter?: Filter) => string;
interface Owner {
    release(subscription: Subscription): Promise<void>;
}
type Listener = (...args: never[]) => void;
/**
 * One subscription of the page to an event name (or a channel). Handlers given to the
 * constructor and to `on('*', fn)` get every event; `on(type, fn)` those whose
 * `meta.event_type` is `type`; `on('recovered' | 'gap', fn)` what recovery after a
 * reconnection found.
 */
export declare class Subscription<Data = any> {
    readonly name: string;
    readonly topic: string;
    readonly match: Match;
    private readonly owner;
    readonly filter?: Filter | undefined;
    /** Settles once the gateway accepted the subscription, or refused it. */
    readonly ready: Promise<void>;
    private handlers;
    private watchers;
    private settle;
    constructor(name: string, topic: string, match: Match, owner: Owner, filter?: Filter | undefined);
    /**
     * Call `handler` for events of type `type` ('create', 'update', 'delete', any, or '*');
     * `on('recovered', fn)` and `on('gap', fn)` for what recovery after a reconnection found.
     */
    on<K extends keyof RecoveryEvents>(type: K, listener: (info: RecoveryEvents[K]) => void): this;
    on(type: string, handler: Handler<Data>): this;
    /** Remove `handler` (or every handler) for `type` (or for every type). */
    off(type?: string, handler?: Listener): this;
    /** Stop receiving; the WAMP subscription ends when no subscription of the page needs it. */
    unsubscribe(): Promise<void>;
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
export declare class Channel<Data = any> {
    readonly name: string;
    readonly topic: string;
    private readonly owner;
    constructor(name: string, topic: string, owner: ChannelOwner);
    subscribe(handler?: Handler<Data>, options?: SubscribeOptions): Subscription<Data>;
    /**
     * `on('join' | 'leave', fn)`: who comes and goes (`fn` gets a PresenceEvent); any other
     * type: the channel's messages of that `meta.event_type`.
     */
    on(type: 'join' | 'leave', handler: (event: PresenceEvent, details: Dict) => void): Subscription;
    on(type: string, handler: Handler<Data>): Subscription<Data>;
    /** The clients present now (subscribed with `{presence: true}`). */
    presence(): Promise<Member[]>;
    /** Publish `data` as `{name, meta: {event_type: 'message', timestamp, id}, data}`. */
    publish(data: Data, options?: PublishOptions): Promise<void>;
    /** The channel's last `limit` messages the gateway keeps, oldest first. */
    history(limit?: number): Promise<TEvent<Data>[]>;
}
export {};
