// The Telegraphy client: one connection to the gateway that reconnects, resumes and
// resubscribes on its own, and the page's subscriptions mapped onto WAMP subscriptions.

import { backoffDelay, RECONNECT_DEFAULTS, type ReconnectOptions } from './backoff';
import { Emitter } from './emitter';
import { cookieStore, type ClientStore } from './identity';
import { Session, type Ending, type SocketLike, type Welcome } from './session';
import {
  Channel,
  keyOf,
  Subscription,
  topicOf,
  type Handler,
  type Match,
  type PublishOptions,
} from './subscription';
import { WampError, type Dict } from './wamp';

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
}

export type State = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface OpenInfo {
  session: number;
  authid?: string;
  authrole?: string;
  clientId: string | null;
  resumed: boolean;
}

export interface TelegraphyEvents {
  connecting: { attempt: number };
  open: OpenInfo;
  closed: { code: number; reason: string; error?: WampError; willReconnect: boolean };
  reconnecting: { attempt: number; delay: number };
  resumed: { clientId: string };
  missed: { reason: 'unknown' | 'not-resumed'; message?: string };
  error: Error;
}

/** The router procedure the heartbeat calls: any answer, even an error, proves the link. */
export const HEARTBEAT_PROCEDURE = 'telegraphy.subscriptions';
const LOST = 'telegraphy.error.connection_lost';
const DENIED = 'wamp.error.authentication_denied';

interface Auth {
  methods: string[];
  token: string | null;
  extra: Dict;
}

interface Entry {
  topic: string;
  match: Match;
  id: number | null;
  pending: boolean;
  subs: Set<Subscription>;
}

interface Restored {
  id: number;
  topic: string;
  match: string;
}

let defaultInstance: Telegraphy | null = null;
const noop = () => {};

export class Telegraphy extends Emitter<TelegraphyEvents> {
  state: State = 'idle';
  /** The client id the gateway gave (resumable after a reconnection), or null. */
  clientId: string | null = null;
  readonly options: TelegraphyOptions;
  private session: Session | null = null;
  private entries = new Map<string, Entry>();
  private byId = new Map<number, Entry>();
  private registry: [string, Handler, Subscription][] = [];
  private waiters: [() => void, (e: Error) => void][] = [];
  private token: string | null;
  private store: ClientStore;
  private method = '';
  private everOpen = false;
  private failures = 0;
  private refusal: string | undefined;
  private timers: Record<'retry' | 'connect' | 'beat' | 'deadline', any> = {
    retry: 0,
    connect: 0,
    beat: 0,
    deadline: 0,
  };

  constructor(options: TelegraphyOptions = {}, private readonly lazy = false) {
    super();
    this.options = { ...options };
    this.token = options.token ?? null;
    this.store = options.store ?? cookieStore();
    // A page that brings no token can only regain its authority by resuming; one that brings a
    // token starts afresh, so that two tabs never take each other's client record.
    if (!this.tokenSource() && !this.token) this.clientId = this.store.load();
  }

  // -- the seeds' API: a default instance -----------------------------------------------

  /** The instance behind `Telegraphy.register` (configured from `window.TELEGRAPHY_CONFIG`). */
  static get default(): Telegraphy {
    const config = (globalThis as { TELEGRAPHY_CONFIG?: TelegraphyOptions }).TELEGRAPHY_CONFIG;
    return (defaultInstance ??= new Telegraphy(config ?? {}, true));
  }

  static configure(options: TelegraphyOptions): Telegraphy {
    return Telegraphy.default.configure(options);
  }

  static register(name: string, handler: Handler): Telegraphy {
    return Telegraphy.default.register(name, handler);
  }

  static unregister(name: string, handler?: Handler): Telegraphy {
    return Telegraphy.default.unregister(name, handler);
  }

  /** Calls `handler` with every event named `name` (`app.Model`, or `app.*`). */
  register(name: string, handler: Handler): this {
    this.registry.push([name, handler, this.subscribe(name, handler)]);
    return this;
  }

  /** Stops calling `handler` (or every handler registered) for `name`. */
  unregister(name: string, handler?: Handler): this {
    this.registry = this.registry.filter(([n, h, subscription]) => {
      const drop = n === name && (handler === undefined || h === handler);
      if (drop) subscription.unsubscribe().catch(noop);
      return !drop;
    });
    return this;
  }

  // -- the modern API -------------------------------------------------------------------

  /** Change options; a new url, realm or token reconnects at once. */
  configure(options: TelegraphyOptions): this {
    Object.assign(this.options, options);
    if (options.token) this.token = options.token;
    if (options.store) this.store = options.store;
    if (this.session) this.session.drop(1000, 'reconfigured');
    else if (this.state === 'reconnecting') this.retryNow();
    else this.connect();
    return this;
  }

  subscribe<Data = any>(name: string, handler?: Handler<Data>): Subscription<Data> {
    return this.subscribeTo(name, 'event', handler);
  }

  channel<Data = any>(name: string): Channel<Data> {
    const { topic } = topicOf(name, this.prefix('channel'));
    return new Channel<Data>(name, topic, this);
  }

  /** Connect (subscribing and publishing do it on their own). */
  connect(): this {
    if (this.state !== 'idle' && this.state !== 'closed') return this;
    if (!this.options.url) {
      if (this.lazy) return this; // the default instance waits for configure()
      throw new TypeError('Telegraphy: no url to connect to');
    }
    this.failures = 0;
    void this.attempt();
    return this;
  }

  /** Leave the gateway and stop reconnecting; `connect()` starts again. */
  close(): void {
    this.stopTimers();
    const session = this.session;
    this.setClosed();
    if (session) {
      session.leave();
      // A router that does not answer GOODBYE does not keep the page (or Node) waiting.
      this.timers.connect = setTimeout(() => session.drop(1000, 'goodbye timeout'), 2000);
    } else this.emit('closed', { code: 1000, reason: 'closed by the client', willReconnect: false });
  }

  /** @internal */
  subscribeTo(name: string, kind: 'event' | 'channel', handler?: Handler): Subscription {
    const { topic, match } = topicOf(name, this.prefix(kind));
    const key = keyOf(topic, match);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { topic, match, id: null, pending: false, subs: new Set() };
      this.entries.set(key, entry);
    }
    const subscription = new Subscription(name, topic, match, this);
    if (handler) subscription.on('*', handler);
    entry.subs.add(subscription);
    if (entry.id !== null) subscription.settled();
    else if (this.session?.established && !entry.pending) this.subscribeEntry(this.session, entry);
    this.connect();
    return subscription;
  }

  /** @internal */
  async release(subscription: Subscription): Promise<void> {
    const key = keyOf(subscription.topic, subscription.match);
    const entry = this.entries.get(key);
    if (!entry?.subs.delete(subscription) || entry.subs.size > 0 || entry.pending) return;
    this.entries.delete(key);
    if (entry.id === null) return;
    this.byId.delete(entry.id);
    if (this.session?.established) await this.session.unsubscribe(entry.id);
  }

  /** @internal */
  async publishTo(name: string, topic: string, data: unknown, options: PublishOptions): Promise<void> {
    if (topic.endsWith('.')) throw new TypeError(`Telegraphy: cannot publish to a pattern: ${name}`);
    const meta = { event_type: options.eventType ?? 'message', timestamp: new Date().toISOString(), id: newId() };
    const session = await this.opened();
    await session.publish(topic, [{ name, meta, data }], options.echo ? { exclude_me: false } : {});
  }

  // -- connecting -----------------------------------------------------------------------

  private prefix(kind: 'event' | 'channel'): string {
    return kind === 'event'
      ? (this.options.topicPrefix ?? 'telegraphy.event')
      : (this.options.channelPrefix ?? 'telegraphy.channel');
  }

  private opened(): Promise<Session> {
    this.connect();
    if (this.session?.established) return Promise.resolve(this.session);
    return new Promise((resolve, reject) => {
      this.waiters.push([() => resolve(this.session as Session), reject]);
    });
  }

  private tokenSource(): boolean {
    return Boolean(this.options.getToken || this.options.tokenUrl);
  }

  private async freshToken(): Promise<string | null> {
    const { getToken, tokenUrl } = this.options;
    if (getToken) return (await getToken()) || null;
    if (!tokenUrl) return null;
    const response = await fetch(tokenUrl, { credentials: 'same-origin' });
    if (!response.ok) throw new Error(`Telegraphy: GET ${tokenUrl} answered ${response.status}`);
    return ((await response.json()) as { token?: string }).token || null;
  }

  private async credentials(): Promise<Auth> {
    let token = this.token;
    this.token = null; // single use
    if (!token && this.tokenSource()) {
      token = await this.freshToken().catch((e: Error) => (this.emit('error', e), null));
    }
    const extra: Dict = this.clientId ? { previous_session: this.clientId } : {};
    if (token) return { methods: ['ticket'], token, extra };
    if (this.clientId && this.method !== 'anonymous') {
      return { methods: ['ticket', 'anonymous'], token: '', extra }; // resume only
    }
    return { methods: ['anonymous'], token: null, extra };
  }

  private async attempt(): Promise<void> {
    this.state = 'connecting';
    this.emit('connecting', { attempt: this.failures });
    const auth = await this.credentials();
    if (this.state !== 'connecting') return; // closed meanwhile
    const Socket = this.options.WebSocket ?? (globalThis.WebSocket as unknown as WebSocketClass);
    let socket: SocketLike;
    try {
      socket = new Socket(this.options.url as string, ['wamp.2.json']);
    } catch (e) {
      this.emit('error', e as Error);
      return this.retry(true);
    }
    const session: Session = new Session(socket, {
      welcome: (details) => this.welcomed(session, details, auth),
      challenge: (method) => (method === 'ticket' ? (auth.token ?? '') : ''),
      event: (id, args, kwargs, details) => this.deliver(id, args[0] ?? kwargs, details),
      revoked: (id) => this.revoked(id),
      ended: (ending) => this.ended(session, ending, auth),
    });
    this.session = session;
    socket.onopen = () => {
      if (socket.protocol && socket.protocol !== 'wamp.2.json') {
        return session.drop(1000, 'no wamp.2.json', new WampError('telegraphy.error.subprotocol'));
      }
      session.hello(this.options.realm ?? 'telegraphy', auth.methods, auth.extra);
    };
    const ms = this.options.connectTimeout ?? 10000;
    this.timers.connect = setTimeout(() => {
      const error = new WampError('telegraphy.error.timeout', [`no WELCOME within ${ms} ms`]);
      session.drop(1000, 'connect timeout', error);
    }, ms);
  }

  private welcomed(session: Session, details: Welcome, auth: Auth): void {
    clearTimeout(this.timers.connect);
    const extra = details.authextra ?? {};
    const resumed = extra.resumed === true;
    const missedBefore = this.everOpen || auth.extra.previous_session !== undefined;
    this.method = details.authmethod ?? '';
    this.everOpen = true;
    this.failures = 0;
    if (typeof extra.client_id === 'string') {
      this.clientId = extra.client_id;
      this.store.save(extra.client_id, extra.client_expires as number | undefined);
    }
    this.state = 'open';
    this.syncSubscriptions(session, resumed ? (extra.subscriptions as Restored[]) : []);
    const { authid, authrole } = details;
    this.emit('open', { session: session.id, authid, authrole, clientId: this.clientId, resumed });
    if (resumed) this.emit('resumed', { clientId: this.clientId as string });
    if (resumed && extra.missed_events !== 'none') this.emit('missed', { reason: 'unknown' });
    else if (!resumed && missedBefore) {
      this.emit('missed', { reason: 'not-resumed', message: this.refusal });
    }
    this.refusal = undefined;
    for (const [resolve] of this.waiters.splice(0)) resolve();
    this.heartbeat(session);
  }

  private ended(session: Session, ending: Ending, auth: Auth): void {
    if (session !== this.session) return;
    this.session = null;
    this.stopTimers();
    this.byId.clear();
    for (const entry of this.entries.values()) {
      entry.id = null;
      entry.pending = false;
    }
    const error = ending.abort;
    const joining = this.state === 'connecting';
    let immediate = false;
    if (error?.uri === DENIED && joining && auth.extra.previous_session !== undefined &&
        /previous_session/.test(error.message)) {
      // The gateway no longer knows (or no longer gives us) our client record: start afresh.
      this.forget();
      this.token = auth.token || null; // the gateway spends a token only when it accepts it
      this.refusal = String(error.args[0]);
      immediate = true;
    } else if (error?.uri === 'telegraphy.error.session_replaced') {
      this.clientId = null; // another connection holds our record now
    }
    if (error && !immediate) this.emit('error', error);
    const willReconnect = this.state !== 'closed' && this.options.reconnect !== false;
    this.emit('closed', { code: ending.code, reason: ending.reason, error, willReconnect });
    if (willReconnect) this.retry(!immediate);
    else this.setClosed();
  }

  private stopTimers(): void {
    for (const timer of Object.values(this.timers)) clearTimeout(timer);
  }

  private forget(): void {
    this.clientId = null;
    this.store.clear();
  }

  private retry(backoff: boolean): void {
    const options = { ...RECONNECT_DEFAULTS, ...(this.options.reconnect || {}) };
    if (backoff && this.failures >= options.maxAttempts) {
      this.emit('error', new WampError('telegraphy.error.gave_up', ['too many failed attempts']));
      return this.setClosed();
    }
    const delay = backoff ? backoffDelay(this.failures++, options) : 0;
    this.state = 'reconnecting';
    this.emit('reconnecting', { attempt: this.failures, delay });
    this.timers.retry = setTimeout(() => this.attempt(), delay);
  }

  private retryNow(): void {
    clearTimeout(this.timers.retry);
    void this.attempt();
  }

  private setClosed(): void {
    this.state = 'closed';
    const error = new WampError(LOST, ['the client is closed']);
    for (const [, reject] of this.waiters.splice(0)) reject(error);
  }

  private heartbeat(session: Session): void {
    const { interval = 25000, timeout = 10000 } = this.options.heartbeat || {};
    if (this.options.heartbeat === false) return;
    this.timers.beat = setTimeout(() => {
      this.timers.deadline = setTimeout(() => {
        const error = new WampError('telegraphy.error.heartbeat_timeout', [`no answer in ${timeout} ms`]);
        session.drop(1000, 'heartbeat timeout', error);
      }, timeout);
      const alive = (e?: WampError) => {
        clearTimeout(this.timers.deadline);
        if (e?.uri !== LOST && this.session === session && session.established) {
          this.heartbeat(session);
        }
      };
      session.call(HEARTBEAT_PROCEDURE).then(() => alive(), alive);
    }, interval);
  }

  // -- subscriptions --------------------------------------------------------------------

  private syncSubscriptions(session: Session, restored: Restored[] = []): void {
    for (const { id, topic, match } of restored) {
      const entry = this.entries.get(keyOf(topic, match));
      if (entry && entry.id === null) this.adopt(entry, id);
      else session.unsubscribe(id).catch(noop); // the page let go of it while away
    }
    for (const entry of this.entries.values()) {
      if (entry.id === null && !entry.pending) this.subscribeEntry(session, entry);
    }
  }

  private subscribeEntry(session: Session, entry: Entry): void {
    entry.pending = true;
    session.subscribe(entry.topic, entry.match, (error, id) => {
      if (session !== this.session || !session.established) return;
      entry.pending = false;
      if (error) {
        (error as WampError & { topic?: string }).topic = entry.topic;
        for (const subscription of entry.subs) subscription.settled(error);
        return this.emit('error', error);
      }
      if (entry.subs.size > 0) return this.adopt(entry, id);
      this.entries.delete(keyOf(entry.topic, entry.match));
      session.unsubscribe(id).catch(noop);
    });
  }

  private adopt(entry: Entry, id: number): void {
    entry.id = id;
    this.byId.set(id, entry);
    for (const subscription of entry.subs) subscription.settled();
  }

  private deliver(id: number, event: any, details: Dict): void {
    for (const subscription of this.byId.get(id)?.subs ?? []) subscription.deliver(event, details);
  }

  private revoked(id: number): void {
    const entry = this.byId.get(id);
    this.byId.delete(id);
    if (entry) entry.id = null;
    this.emit('error', new WampError('telegraphy.error.subscription_revoked', [entry?.topic]));
  }
}

function newId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
