// The Telegraphy client: one connection to the gateway that reconnects, resumes and
// resubscribes on its own, and the page's subscriptions mapped onto WAMP subscriptions.

import { backoffDelay, RECONNECT_DEFAULTS, type ReconnectOptions } from './backoff';
import { Emitter } from './emitter';
import { cookieStore, type ClientStore } from './identity';
import { Session, type Ending, type SocketLike, type Welcome } from './session';
import {
  Channel,
  filterOf,
  keyOf,
  Subscription,
  topicOf,
  type GapReason,
  type Handler,
  type Match,
  type Member,
  type Position,
  type PublishOptions,
  type RecoveryEvents,
  type SubscribeOptions,
  type TEvent,
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
export const HISTORY_PROCEDURE = 'telegraphy.history';
export const PRESENCE_PROCEDURE = 'telegraphy.presence';
/** The most topics one recovery request may name (the gateway's limit). */
const MAX_POSITIONS = 1000;
const LOST = 'telegraphy.error.connection_lost';
const DENIED = 'wamp.error.authentication_denied';

interface Auth {
  methods: string[];
  token: string | null;
  extra: Dict;
}

interface Entry {
  name: string;
  topic: string;
  match: Match;
  filter: Dict | undefined;
  key: string;
  id: number | null;
  pending: boolean;
  subs: Set<Subscription>;
  /** Some subscription of the page asked the gateway to keep this one for the client. */
  persistent: boolean;
  /** Some subscription of the page asked to be present in the channel. */
  presence: boolean;
  /** Never subscribed nor restored yet: its first SUBSCRIBE may ask for `since`. */
  fresh: boolean;
  /** `recover.since` for the first SUBSCRIBE, when the subscribe call gave one. */
  since: number | undefined;
  /** Made before the first connection opened: the page's data was read for it (`since`). */
  early: boolean;
  /** The position of the last event delivered, per topic (several under a pattern). */
  positions: Map<string, Position>;
}

interface Restored {
  id: number;
  topic: string;
  match: string;
  persistent?: boolean;
  filter?: Dict;
}

/** One topic of a recovery report (an EVENT without args whose details carry `recovery`). */
interface Report {
  topic: string;
  offset?: number;
  epoch?: string;
  recovered?: number;
  gap?: GapReason | null;
}

interface History {
  events: { args: unknown[]; kwargs: Dict }[];
}

type Kind = 'event' | 'channel' | 'presence';

let defaultInstance: Telegraphy | null = null;
const noop = () => {};

export class Telegraphy extends Emitter<TelegraphyEvents> {
  state: State = 'idle';
  /** The client id the gateway gave (resumable after a reconnection), or null. */
  clientId: string | null = null;
  readonly options: TelegraphyOptions;
  private session: Session | null = null;
  private entries = new Map<string, Entry>();
  /** Entries by WAMP subscription: several when filters written differently are equal. */
  private byId = new Map<number, Entry[]>();
  private registry: [string, Handler, Subscription][] = [];
  private waiters: [() => void, (e: Error) => void][] = [];
  private token: string | null;
  private store: ClientStore;
  private method = '';
  private everOpen = false;
  private failures = 0;
  private refusal: string | undefined;
  /** Whom `clientId` was given to, when known (see `user`). */
  private owner: string | null | undefined;
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
    if (!this.tokenSource() && !this.token) this.load();
  }

  // -- the original API: a default instance ---------------------------------------------

  /** The instance behind `Telegraphy.register` (configured from `window.TELEGRAPHY_CONFIG`). */
  static get default(): Telegraphy {
    const config = (globalThis as { TELEGRAPHY_CONFIG?: TelegraphyOptions }).TELEGRAPHY_CONFIG;
    return (defaultInstance ??= new Telegraphy(config ?? {}, true));
  }

  static configure(options: TelegraphyOptions): Telegraphy {
    return Telegraphy.default.configure(options);
  }

  static register(name: string, handler: Handler, options?: SubscribeOptions): Telegraphy {
    return Telegraphy.default.register(name, handler, options);
  }

  static unregister(name: string, handler?: Handler): Telegraphy {
    return Telegraphy.default.unregister(name, handler);
  }

  /** Calls `handler` with every event named `name` (`app.Model`, or `app.*`). */
  register(name: string, handler: Handler, options?: SubscribeOptions): this {
    this.registry.push([name, handler, this.subscribe(name, handler, options)]);
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
    this.dropIfAnotherUsers();
    if (this.session) this.session.drop(1000, 'reconfigured');
    else if (this.state === 'reconnecting') this.retryNow();
    else this.connect();
    return this;
  }

  subscribe<Data = any>(
    name: string,
    handler?: Handler<Data>,
    options?: SubscribeOptions,
  ): Subscription<Data> {
    return this.subscribeTo(name, 'event', handler, options);
  }

  /** The last `limit` events named `name` the gateway keeps, oldest first. */
  history<Data = any>(name: string, limit = 100): Promise<TEvent<Data>[]> {
    return this.historyOf(name, 'event', limit);
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
  subscribeTo(
    name: string,
    kind: Kind,
    handler?: Handler,
    options: SubscribeOptions = {},
  ): Subscription {
    const { topic, match } = topicOf(name, this.prefix(kind));
    const filter = filterOf(options.filter);
    const key = keyOf(topic, match, filter);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = newEntry(name, topic, match, filter, options.since, !this.everOpen);
      this.entries.set(key, entry);
    }
    const upgrade = (options.persistent === true && !entry.persistent) ||
      (options.presence === true && !entry.presence);
    entry.persistent ||= options.persistent === true;
    entry.presence ||= options.presence === true;
    const subscription = new Subscription(name, topic, match, this, filter);
    if (handler) subscription.on('*', handler);
    entry.subs.add(subscription);
    if (entry.id !== null) subscription.settled();
    const session = this.session;
    if (session?.established && !entry.pending && (entry.id === null || upgrade)) {
      this.subscribeEntry(session, entry);
    }
    this.connect();
    return subscription;
  }

  /** @internal */
  async release(subscription: Subscription): Promise<void> {
    const key = keyOf(subscription.topic, subscription.match, subscription.filter);
    const entry = this.entries.get(key);
    if (!entry?.subs.delete(subscription) || entry.subs.size > 0 || entry.pending) return;
    this.entries.delete(key);
    if (entry.id === null) return;
    const sharing = (this.byId.get(entry.id) ?? []).filter((e) => e !== entry);
    if (sharing.length) return void this.byId.set(entry.id, sharing);
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

  /** @internal */
  async historyOf(name: string, kind: 'event' | 'channel', limit: number): Promise<TEvent[]> {
    const { topic, match } = topicOf(name, this.prefix(kind));
    if (match !== 'exact') throw new TypeError(`Telegraphy: no history for a pattern: ${name}`);
    const session = await this.opened();
    const [result] = (await session.call(HISTORY_PROCEDURE, [topic, limit])) as [History];
    return result.events.map((e) => (e.args[0] ?? e.kwargs) as TEvent);
  }

  /** @internal */
  async presenceOf(name: string): Promise<Member[]> {
    const session = await this.opened();
    const [result] = (await session.call(PRESENCE_PROCEDURE, [name])) as [{ members: Member[] }];
    return result.members;
  }

  // -- connecting -----------------------------------------------------------------------

  private prefix(kind: Kind): string {
    if (kind === 'presence') return 'telegraphy.presence';
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
    if (this.clientId) {
      // A page load resuming its cookie's client has no positions yet: its render time has.
      const recover = recoverOf(this.entries.values(), this.everOpen ? undefined : this.options.since);
      if (recover) extra.recover = recover;
    }
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
      event: (id, args, kwargs, details) => this.deliver(id, args, kwargs, details),
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
      this.owner = this.options.user;
      this.store.save(storedValue(this.clientId, this.owner), extra.client_expires as number | undefined);
    }
    this.state = 'open';
    this.syncSubscriptions(session, resumed ? (extra.subscriptions as Restored[]) : []);
    const { authid, authrole } = details;
    this.emit('open', { session: session.id, authid, authrole, clientId: this.clientId, resumed });
    if (resumed) this.emit('resumed', { clientId: this.clientId as string });
    // 'recovering': every restored subscription gets a recovery report instead.
    const known = extra.missed_events === 'none' || extra.missed_events === 'recovering';
    if (resumed && !known) this.emit('missed', { reason: 'unknown' });
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

  private load(): void {
    const [clientId, owner] = storedClient(this.store.load());
    this.clientId = clientId;
    this.owner = owner;
    this.dropIfAnotherUsers();
  }

  /** A client id given to another user (signed in or out since) is not resumed: the gateway
   * would refuse it. The page starts afresh instead. */
  private dropIfAnotherUsers(): void {
    const user = this.options.user;
    if (this.owner !== undefined && user !== undefined && user !== this.owner) this.clientId = null;
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
    const unwanted = new Set<number>();
    for (const { id, topic, match, persistent, filter } of restored) {
      const entry = this.entries.get(keyOf(topic, match, filterOf(filter)));
      if (entry && entry.id === null) {
        this.adopt(entry, id);
        if (entry.persistent && !persistent) this.subscribeEntry(session, entry);
      } else unwanted.add(id);
    }
    for (const id of unwanted) {
      if (!this.byId.has(id)) session.unsubscribe(id).catch(noop); // the page let go of it while away
    }
    for (const entry of this.entries.values()) {
      if (entry.id === null && !entry.pending) this.subscribeEntry(session, entry);
    }
  }

  private subscribeEntry(session: Session, entry: Entry): void {
    // The page's `since` covers what the page rendered: the subscriptions made as it loaded,
    // not one made later (a room joined minutes after) that would replay minutes of history.
    const pageSince = entry.early ? this.options.since : undefined;
    const options = subscribeOptions(entry, entry.fresh ? (entry.since ?? pageSince) : undefined);
    if (entry.fresh && this.options.debug) this.checkDefined(entry);
    entry.pending = true;
    session.subscribe(entry.topic, options, (error, id) => {
      if (session !== this.session || !session.established) return;
      entry.pending = false;
      if (error) {
        (error as WampError & { topic?: string }).topic = entry.topic;
        this.warn(`subscription to ${JSON.stringify(entry.name)} refused: ${error.message}`);
        for (const subscription of entry.subs) subscription.settled(error);
        return this.emit('error', error);
      }
      if (entry.subs.size === 0) {
        this.entries.delete(entry.key);
        return void session.unsubscribe(id).catch(noop);
      }
      this.adopt(entry, id);
      // Asked for while the SUBSCRIBE was on its way: subscribing again makes it persistent
      // (or present).
      if ((entry.persistent && !options.persistent) || (entry.presence && !options.presence)) {
        this.subscribeEntry(session, entry);
      }
    });
  }

  /** In debug mode: an event name that matches nothing the web app defines is a typo. */
  private checkDefined(entry: Entry): void {
    const defined = this.options.events;
    const events = this.prefix('event') + '.';
    if (!defined || !entry.topic.startsWith(events)) return;
    const name = entry.topic.slice(events.length);
    const matches = (d: string) => (entry.match === 'exact' ? d === name : d.startsWith(name));
    if (defined.some(matches)) return;
    const known = defined.length ? `; the app defines ${defined.join(', ')}` : '';
    this.warn(`no event named ${JSON.stringify(entry.name)}${known}`);
  }

  private warn(message: string): void {
    if (this.options.debug) console.warn(`Telegraphy: ${message}`);
  }

  private adopt(entry: Entry, id: number): void {
    entry.id = id;
    entry.fresh = false;
    const sharing = this.byId.get(id) ?? [];
    if (!sharing.includes(entry)) this.byId.set(id, [...sharing, entry]);
    for (const subscription of entry.subs) subscription.settled();
  }

  private deliver(id: number, args: unknown[], kwargs: Dict, details: Dict): void {
    for (const entry of this.byId.get(id) ?? []) this.deliverTo(entry, args, kwargs, details);
  }

  private deliverTo(entry: Entry, args: unknown[], kwargs: Dict, details: Dict): void {
    if (args.length === 0 && Array.isArray(details.recovery)) return this.report(entry, details.recovery);
    const topic = typeof details.topic === 'string' ? details.topic : entry.topic;
    if (!advance(entry, topic, details.offset, details.epoch)) return; // delivered already
    const event = (args[0] ?? kwargs) as TEvent;
    for (const subscription of entry.subs) subscription.deliver(event, details);
  }

  private report(entry: Entry, report: Report[]): void {
    for (const { topic, offset, epoch, recovered, gap } of report) {
      advance(entry, topic, offset, epoch); // so that a gap is not reported again
      const name = entry.name;
      if (gap) {
        const at = typeof offset === 'number' ? { offset, epoch } : {};
        this.tell(entry, 'gap', { name, topic, reason: gap, ...at });
      } else this.tell(entry, 'recovered', { name, topic, count: recovered ?? 0 });
    }
  }

  private tell<K extends keyof RecoveryEvents>(entry: Entry, kind: K, info: RecoveryEvents[K]): void {
    for (const subscription of entry.subs) subscription.notify(kind, info);
    this.emit(kind, info as TelegraphyEvents[K]);
  }

  private revoked(id: number): void {
    const entries = this.byId.get(id) ?? [];
    this.byId.delete(id);
    for (const entry of entries) entry.id = null;
    this.emit('error', new WampError('telegraphy.error.subscription_revoked', [entries[0]?.topic]));
  }
}

function newEntry(
  name: string, topic: string, match: Match, filter: Dict | undefined, since: number | undefined,
  early: boolean,
): Entry {
  const positions = new Map<string, Position>();
  const state = { id: null, pending: false, persistent: false, presence: false, fresh: true };
  const key = keyOf(topic, match, filter);
  return { name, topic, match, filter, key, subs: new Set(), since, early, positions, ...state };
}

/** Keep `topic`'s position; false when the event is not past it (a duplicate). */
function advance(entry: Entry, topic: string, offset: unknown, epoch: unknown): boolean {
  if (typeof offset !== 'number' || typeof epoch !== 'string') return true; // no position: meta events
  const kept = entry.positions.get(topic);
  if (kept && kept.epoch === epoch && offset <= kept.offset) return false;
  entry.positions.set(topic, { offset, epoch });
  return true;
}

/** The `recover` option for `entries`: where they stand, and (for topics without) `since`. */
function recoverOf(entries: Iterable<Entry>, since?: number): Dict | null {
  const positions: Record<string, Position> = {};
  let count = 0;
  for (const entry of entries) {
    for (const [topic, position] of entry.positions) {
      const other = positions[topic];
      // An exact and a pattern subscription may stand apart on one topic: the earlier wins,
      // and the one further on drops what it already delivered.
      if (other && (other.epoch !== position.epoch || other.offset <= position.offset)) continue;
      if (!other && count++ >= MAX_POSITIONS) continue;
      positions[topic] = position;
    }
  }
  if (count > 0) return since === undefined ? { positions } : { positions, since };
  return since === undefined ? null : { since };
}

function subscribeOptions(entry: Entry, since: number | undefined): Dict {
  const options: Dict = entry.match === 'exact' ? {} : { match: entry.match };
  if (entry.persistent) options.persistent = true;
  if (entry.presence) options.presence = true;
  if (entry.filter) options.filter = entry.filter;
  // Live on this session already, the subscription only changes its persistence.
  const recover = entry.id === null && recoverOf([entry], entry.positions.size ? undefined : since);
  if (recover) options.recover = recover;
  return options;
}

/** The stored value: the client id, and after a space whom it was given to ('' anonymous). */
function storedValue(clientId: string, owner: string | null | undefined): string {
  return owner === undefined ? clientId : `${clientId} ${owner ?? ''}`;
}

function storedClient(value: string | null): [string | null, string | null | undefined] {
  const space = value?.indexOf(' ') ?? -1;
  if (!value || space < 0) return [value || null, undefined];
  return [value.slice(0, space), value.slice(space + 1) || null];
}

function newId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
