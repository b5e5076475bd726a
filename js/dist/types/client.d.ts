import { type ReconnectOptions } from './backoff';
import { Emitter } from './emitter';
import { type ClientStore } from './identity';
import { type SocketLike } from './session';
import { Channel, Subscription, type Handler, type RecoveryEvents, type SubscribeOptions, type TEvent } from './subscription';
import { WampError } from './wamp';
export interface HeartbeatOptions {
    /** Ms between two heartbeat calls while connected (default 25000). */
    interval?: number;
    /** Ms to wait for the answer before the connection is declared dead (default 10000). */
    timeout?: number;
}
export type WebSocketClass = new (url: string, protocols: string[]) => SocketLike;
export interface TelegraphyOptions {
    /** The gateway's WebSocket endpoint, e.g. `ws://127.0.0.1:9000/ws`. */
    url?: string;
    /** WAMP realm (default 'telegraphy'). */
    realm?: string;
    /** A token minted by the web application for the first connection (tokens are single use). */
    token?: string | null;
    /** Gives a fresh token for each reconnection. */
    getToken?: () => string | null | undefined | Promise<string | null | undefined>;
    /** Or: a URL answering GET with `{"token": "..."}`, fetched for each reconnection. */
    tokenUrl?: string;
    /** Event topics are `<topicPrefix>.<event name>` (default 'telegraphy.event'). */
    topicPrefix?: string;
    /** Channel topics are `<channelPrefix>.<channel>` (default 'telegraphy.channel'). */
    channelPrefix?: string;
    /** Dead-connection detection, or false to turn it off. */
    heartbeat?: HeartbeatOptions | false;
    /** Reconnection backoff, or false to stay closed after a loss. */
    reconnect?: ReconnectOptions | false;
    /** Ms from opening the socket to WELCOME before the attempt is abandoned (default 10000). */
    connectTimeout?: number;
    /** The WebSocket class (default: the global one; under Node 20 pass `ws`'s). */
    WebSocket?: WebSocketClass;
    /** Where the client id is kept between page loads (default: the cookie in a browser). */
    store?: ClientStore;
    /**
     * Unix seconds at which the page read its data (the template helpers set it): the first
     * subscribe of each subscription has the gateway replay what was published from then on.
     */
    since?: number;
    /**
     * The user the page's token is for (the template helpers set it; null: anonymous). A client
     * id kept for another user is not resumed: the page starts afresh.
     */
    user?: string | null;
    /**
     * Warn in the console when a subscription is refused, or when an event name matches none
     * of `events` (the template helpers turn it on when the web app runs in debug mode).
     */
    debug?: boolean;
    /** The event names the web app defines (the template helpers give them in debug mode). */
    events?: string[];
}
export type State = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';
export interface OpenInfo {
    session: number;
    authid?: string;
    authrole?: string;
    clientId: string | null;
    resumed: boolean;
}
export interface TelegraphyEvents extends RecoveryEvents {
    connecting: {
        attempt: number;
    };
    open: OpenInfo;
    closed: {
        code: number;
        reason: string;
        error?: WampError;
        willReconnect: boolean;
    };
    reconnecting: {
        attempt: number;
        delay: number;
    };
    resumed: {
        clientId: string;
    };
    missed: {
        reason: 'unknown' | 'not-resumed';
        message?: string;
    };
    error: Error;
}
/** The router procedure the heartbeat calls: any answer, even an error, proves the link. */
export declare const HEARTBEAT_PROCEDURE = "telegraphy.subscriptions";
export declare const HISTORY_PROCEDURE = "telegraphy.history";
export declare const PRESENCE_PROCEDURE = "telegraphy.presence";
export declare class Telegraphy extends Emitter<TelegraphyEvents> {
    private readonly lazy;
    state: State;
    /** The client id the gateway gave (resumable after a reconnection), or null. */
    clientId: string | null;
    readonly options: TelegraphyOptions;
    private session;
    private entries;
    /** Entries by WAMP subscription: several when filters written differently are equal. */
    private byId;
    private registry;
    private waiters;
    private token;
    private store;
    private method;
    private everOpen;
    private failures;
    private refusal;
    /** Whom `clientId` was given to, when known (see `user`). */
    private owner;
    private timers;
    constructor(options?: TelegraphyOptions, lazy?: boolean);
    /** The instance behind `Telegraphy.register` (configured from `window.TELEGRAPHY_CONFIG`). */
    static get default(): Telegraphy;
    static configure(options: TelegraphyOptions): Telegraphy;
    static register(name: string, handler: Handler, options?: SubscribeOptions): Telegraphy;
    static unregister(name: string, handler?: Handler): Telegraphy;
    /** Calls `handler` with every event named `name` (`app.Model`, or `app.*`). */
    register(name: string, handler: Handler, options?: SubscribeOptions): this;
    /** Stops calling `handler` (or every handler registered) for `name`. */
    unregister(name: string, handler?: Handler): this;
    /** Change options; a new url, realm or token reconnects at once. */
    configure(options: TelegraphyOptions): this;
    subscribe<Data = any>(name: string, handler?: Handler<Data>, options?: SubscribeOptions): Subscription<Data>;
    /** The last `limit` events named `name` the gateway keeps, oldest first. */
    history<Data = any>(name: string, limit?: number): Promise<TEvent<Data>[]>;
    channel<Data = any>(name: string): Channel<Data>;
    /** Connect (subscribing and publishing do it on their own). */
    connect(): this;
    /** Leave the gateway and stop reconnecting; `connect()` starts again. */
    close(): void;
    private prefix;
    private opened;
    private tokenSource;
    private freshToken;
    private credentials;
    private attempt;
    private welcomed;
    private ended;
    private stopTimers;
    private load;
    /** A client id given to another user (signed in or out since) is not resumed: the gateway
     * would refuse it. The page starts afresh instead. */
    private dropIfAnotherUsers;
    private forget;
    private retry;
    private retryNow;
    private setClosed;
    private heartbeat;
    private syncSubscriptions;
    private subscribeEntry;
    /** In debug mode: an event name that matches nothing the web app defines is a typo. */
    private checkDefined;
    private warn;
    private adopt;
    private deliver;
    private deliverTo;
    private report;
    private tell;
    private revoked;
}
