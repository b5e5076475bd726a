/*! telegraphy-js 0.1.0 | MIT */

// src/backoff.ts
var RECONNECT_DEFAULTS = {
  initialDelay: 500,
  maxDelay: 3e4,
  factor: 2,
  jitter: 0.5,
  maxAttempts: Infinity
};
function backoffDelay(attempt, options, random = Math.random) {
  const base = Math.min(options.maxDelay, options.initialDelay * options.factor ** attempt);
  const jitter = Math.min(1, Math.max(0, options.jitter));
  return Math.round(base * (1 - jitter * random()));
}

// src/emitter.ts
var Emitter = class {
  constructor() {
    this.listeners = {};
  }
  on(name, listener) {
    var _a;
    ((_a = this.listeners)[name] ?? (_a[name] = [])).push(listener);
    return () => this.off(name, listener);
  }
  off(name, listener) {
    const list = this.listeners[name];
    if (list) this.listeners[name] = listener ? list.filter((l) => l !== listener) : [];
  }
  emit(name, value) {
    for (const listener of this.listeners[name] ?? []) safely(() => listener(value));
  }
  listening(name) {
    return (this.listeners[name]?.length ?? 0) > 0;
  }
};
function safely(fn) {
  try {
    fn();
  } catch (e) {
    reportLater(e);
  }
}
function reportLater(error) {
  setTimeout(() => {
    throw error;
  });
}

// src/identity.ts
var COOKIE = "telegraphy_client";
var none = { load: () => null, save: () => {
}, clear: () => {
} };
function cookieStore(doc = globalThis.document) {
  if (doc === void 0) return none;
  const secure = globalThis.location?.protocol === "https:" ? "; Secure" : "";
  const write = (value, expires) => {
    doc.cookie = `${COOKIE}=${value}; expires=${expires.toUTCString()}; path=/; SameSite=Lax${secure}`;
  };
  return {
    load() {
      const found = doc.cookie.split("; ").find((c) => c.startsWith(COOKIE + "="));
      return found ? decodeURIComponent(found.slice(COOKIE.length + 1)) || null : null;
    },
    save(clientId, expires) {
      const when = new Date(expires ? expires * 1e3 : Date.now() + 15 * 60 * 1e3);
      write(encodeURIComponent(clientId), when);
    },
    clear: () => write("", /* @__PURE__ */ new Date(0))
  };
}

// src/wamp.ts
var HELLO = 1;
var WELCOME = 2;
var ABORT = 3;
var CHALLENGE = 4;
var AUTHENTICATE = 5;
var GOODBYE = 6;
var ERROR = 8;
var PUBLISH = 16;
var PUBLISHED = 17;
var SUBSCRIBE = 32;
var SUBSCRIBED = 33;
var UNSUBSCRIBE = 34;
var UNSUBSCRIBED = 35;
var EVENT = 36;
var CALL = 48;
var RESULT = 50;
var WampError = class extends Error {
  constructor(uri, args = [], kwargs = {}) {
    const text = typeof args[0] === "string" ? `: ${args[0]}` : "";
    super(uri + text);
    this.name = "WampError";
    this.uri = uri;
    this.args = args;
    this.kwargs = kwargs;
  }
};
var SHAPES = {
  [WELCOME]: "id dict",
  [ABORT]: "dict uri",
  [CHALLENGE]: "str dict",
  [GOODBYE]: "dict uri",
  [ERROR]: "int id dict uri +",
  [PUBLISHED]: "id id",
  [SUBSCRIBED]: "id id",
  [UNSUBSCRIBED]: "int",
  [EVENT]: "id id dict +",
  [RESULT]: "id dict +"
};
var isDict = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
var isId = (v) => Number.isSafeInteger(v) && v >= 0;
var CHECKS = {
  id: isId,
  int: Number.isSafeInteger,
  dict: isDict,
  str: (v) => typeof v === "string",
  uri: (v) => typeof v === "string" && v.length > 0
};
function parse(text) {
  let message;
  try {
    message = JSON.parse(text);
  } catch {
    return "a frame is not JSON";
  }
  if (!Array.isArray(message) || !Number.isInteger(message[0])) {
    return "a message is not an array starting with its type";
  }
  const shape = SHAPES[message[0]];
  if (shape === void 0) return `message type ${message[0]} is not sent to a client`;
  const fields = shape.split(" ");
  const n = fields.length;
  const ok = fields.every((check, i) => check === "+" || CHECKS[check](message[i + 1])) && (fields[n - 1] !== "+" || message[n] === void 0 || Array.isArray(message[n])) && (fields[n - 1] !== "+" || message[n + 1] === void 0 || isDict(message[n + 1]));
  return ok ? message : `malformed message of type ${message[0]}`;
}

// src/session.ts
var ROLES = { subscriber: {}, publisher: {}, caller: {} };
var SUCCESS = {
  [SUBSCRIBE]: SUBSCRIBED,
  [UNSUBSCRIBE]: UNSUBSCRIBED,
  [PUBLISH]: PUBLISHED,
  [CALL]: RESULT
};
var Session = class {
  constructor(socket, hooks) {
    this.socket = socket;
    this.hooks = hooks;
    this.id = 0;
    this.phase = "joining";
    this.pending = /* @__PURE__ */ new Map();
    this.lastRequest = 0;
    socket.onmessage = (e) => this.receive(e.data);
    socket.onclose = (e) => this.end({ code: e.code, reason: e.reason });
    socket.onerror = () => {
    };
  }
  get established() {
    return this.phase === "established";
  }
  hello(realm, authmethods, authextra) {
    this.send([HELLO, realm, { roles: ROLES, authmethods, authextra }]);
  }
  /** Calls `done` synchronously with the reply: an EVENT may follow SUBSCRIBED in one chunk. */
  subscribe(topic, options, done) {
    this.request(SUBSCRIBE, [options, topic], {
      resolve: (m) => done(null, m[2]),
      reject: (e) => done(e, 0)
    }).catch(() => {
    });
  }
  unsubscribe(subscription) {
    return this.request(UNSUBSCRIBE, [subscription]).then(() => void 0);
  }
  publish(topic, args, options) {
    const message = [{ ...options, acknowledge: true }, topic, args];
    return this.request(PUBLISH, message).then(() => void 0);
  }
  call(procedure, args = []) {
    return this.request(CALL, [{}, procedure, args]).then((m) => m[3] ?? []);
  }
  /** Say GOODBYE; the router answers and the socket closes. */
  leave() {
    if (this.phase !== "established") return this.drop(1e3, "closed by the client");
    this.phase = "closing";
    this.send([GOODBYE, {}, "wamp.close.close_realm"]);
  }
  /** End the session now, without waiting on the peer (a dead connection, a violation). */
  drop(code, reason, abort) {
    if (this.phase === "ended") return;
    this.end({ code, reason, abort });
    try {
      this.socket.close(1e3);
    } catch {
    }
  }
  request(type, fields, sync) {
    if (this.phase !== "established") {
      const error = new WampError("telegraphy.error.not_connected", ["not connected"]);
      sync?.reject(error);
      return Promise.reject(error);
    }
    const request = ++this.lastRequest;
    return new Promise((resolve, reject) => {
      this.pending.set(request, {
        expects: SUCCESS[type],
        resolve: (m) => (sync?.resolve(m), resolve(m)),
        reject: (e) => (sync?.reject(e), reject(e))
      });
      this.send([type, request, ...fields]);
    });
  }
  send(message) {
    this.socket.send(JSON.stringify(message));
  }
  violation(text) {
    if (this.phase === "ended") return;
    try {
      this.send([ABORT, { message: text }, "wamp.error.protocol_violation"]);
    } catch {
    }
    this.drop(1002, "protocol violation", new WampError("wamp.error.protocol_violation", [text]));
  }
  end(ending) {
    if (this.phase === "ended") return;
    this.phase = "ended";
    this.socket.onmessage = this.socket.onclose = null;
    const lost = new WampError("telegraphy.error.connection_lost", [ending.reason || "lost"]);
    for (const pending of this.pending.values()) pending.reject(lost);
    this.pending.clear();
    this.hooks.ended(ending);
  }
  receive(data) {
    if (typeof data !== "string") return this.violation("a binary frame on wamp.2.json");
    const message = parse(data);
    if (typeof message === "string") return this.violation(message);
    const type = message[0];
    if (type === ABORT) return this.aborted(message);
    if (this.phase === "joining") return this.joining(type, message);
    if (type === GOODBYE) return this.goodbye();
    if (this.phase !== "established") return;
    if (type === EVENT) {
      const [, sub, , details, args, kwargs] = message;
      return this.hooks.event(sub, args ?? [], kwargs ?? {}, details);
    }
    if (type === UNSUBSCRIBED && message[1] === 0) {
      const sub = message[2]?.subscription;
      return typeof sub === "number" ? this.hooks.revoked(sub) : void 0;
    }
    this.reply(type, message);
  }
  joining(type, message) {
    if (type === CHALLENGE) {
      this.send([AUTHENTICATE, this.hooks.challenge(message[1], message[2]), {}]);
    } else if (type === WELCOME) {
      this.id = message[1];
      this.phase = "established";
      this.hooks.welcome({ ...message[2], session: this.id });
    } else {
      this.violation(`message type ${type} before WELCOME`);
    }
  }
  aborted(message) {
    const details = message[1];
    const text = typeof details.message === "string" ? [details.message] : [];
    this.drop(1e3, "aborted", new WampError(message[2], text, details));
  }
  goodbye() {
    if (this.phase === "established") this.send([GOODBYE, {}, "wamp.close.goodbye_and_out"]);
    this.drop(1e3, "goodbye");
  }
  reply(type, message) {
    const request = type === ERROR ? message[2] : message[1];
    const pending = this.pending.get(request);
    if (pending === void 0) return this.violation(`a reply to unknown request ${request}`);
    this.pending.delete(request);
    if (type === ERROR) {
      const [, , , , uri, args, kwargs] = message;
      pending.reject(new WampError(uri, args, kwargs));
    } else if (type === pending.expects) {
      pending.resolve(message);
    } else {
      this.violation(`message type ${type} in reply to a request expecting ${pending.expects}`);
    }
  }
};

// src/subscription.ts
function topicOf(name, prefix) {
  if (typeof name !== "string" || name === "" || /\s|#/.test(name)) {
    throw new TypeError(`Telegraphy: invalid event or channel name ${JSON.stringify(name)}`);
  }
  if (name === "*") return { topic: `${prefix}.`, match: "prefix" };
  if (name.endsWith(".*")) return { topic: `${prefix}.${name.slice(0, -1)}`, match: "prefix" };
  return { topic: `${prefix}.${name}`, match: "exact" };
}
function stableJson(value) {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    const dict = value;
    return `{${Object.keys(dict).sort().map((k) => `${JSON.stringify(k)}:${stableJson(dict[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
var filterOf = (filter) => filter && typeof filter === "object" && Object.keys(filter).length ? filter : void 0;
var keyOf = (topic, match, filter) => filter ? `${match} ${topic} ${stableJson(filter)}` : `${match} ${topic}`;
var isRecovery = (type) => type === "recovered" || type === "gap";
var Subscription = class {
  constructor(name, topic, match, owner, filter) {
    this.name = name;
    this.topic = topic;
    this.match = match;
    this.owner = owner;
    this.filter = filter;
    this.handlers = [];
    this.watchers = [];
    this.ready = new Promise((resolve, reject) => this.settle = [resolve, reject]);
    this.ready.catch(() => {
    });
  }
  on(type, handler) {
    if (isRecovery(type)) this.watchers.push([type, handler]);
    else this.handlers.push([type, handler]);
    return this;
  }
  /** Remove `handler` (or every handler) for `type` (or for every type). */
  off(type, handler) {
    const keep = ([t, h]) => !((type === void 0 || t === type) && (handler === void 0 || h === handler));
    this.handlers = this.handlers.filter(keep);
    this.watchers = this.watchers.filter(keep);
    return this;
  }
  /** Stop receiving; the WAMP subscription ends when no subscription of the page needs it. */
  unsubscribe() {
    return this.owner.release(this);
  }
  /** @internal */
  deliver(event, details) {
    const type = event?.meta?.event_type ?? event?.kind;
    for (const [t, handler] of this.handlers) {
      if (t === "*" || t === type) safely(() => handler(event, details));
    }
  }
  /** @internal */
  notify(kind, info) {
    for (const [t, watcher] of this.watchers) if (t === kind) safely(() => watcher(info));
  }
  /** @internal */
  settled(error) {
    if (error) this.settle[1](error);
    else this.settle[0]();
  }
};
var Channel = class {
  constructor(name, topic, owner) {
    this.name = name;
    this.topic = topic;
    this.owner = owner;
  }
  subscribe(handler, options) {
    return this.owner.subscribeTo(this.name, "channel", handler, options);
  }
  on(type, handler) {
    const presence = type === "join" || type === "leave";
    return this.owner.subscribeTo(this.name, presence ? "presence" : "channel").on(type, handler);
  }
  /** The clients present now (subscribed with `{presence: true}`). */
  presence() {
    return this.owner.presenceOf(this.name);
  }
  /** Publish `data` as `{name, meta: {event_type: 'message', timestamp, id}, data}`. */
  publish(data, options = {}) {
    return this.owner.publishTo(this.name, this.topic, data, options);
  }
  /** The channel's last `limit` messages the gateway keeps, oldest first. */
  history(limit = 100) {
    return this.owner.historyOf(this.name, "channel", limit);
  }
};

// src/client.ts
var HEARTBEAT_PROCEDURE = "telegraphy.subscriptions";
var HISTORY_PROCEDURE = "telegraphy.history";
var PRESENCE_PROCEDURE = "telegraphy.presence";
var MAX_POSITIONS = 1e3;
var LOST = "telegraphy.error.connection_lost";
var DENIED = "wamp.error.authentication_denied";
var defaultInstance = null;
var noop = () => {
};
var Telegraphy = class _Telegraphy extends Emitter {
  constructor(options = {}, lazy = false) {
    super();
    this.lazy = lazy;
    this.state = "idle";
    /** The client id the gateway gave (resumable after a reconnection), or null. */
    this.clientId = null;
    this.session = null;
    this.entries = /* @__PURE__ */ new Map();
    /** Entries by WAMP subscription: several when filters written differently are equal. */
    this.byId = /* @__PURE__ */ new Map();
    this.registry = [];
    this.waiters = [];
    this.method = "";
    this.everOpen = false;
    this.failures = 0;
    this.timers = {
      retry: 0,
      connect: 0,
      beat: 0,
      deadline: 0
    };
    this.options = { ...options };
    this.token = options.token ?? null;
    this.store = options.store ?? cookieStore();
    if (!this.tokenSource() && !this.token) this.load();
  }
  // -- the original API: a default instance ---------------------------------------------
  /** The instance behind `Telegraphy.register` (configured from `window.TELEGRAPHY_CONFIG`). */
  static get default() {
    const config = globalThis.TELEGRAPHY_CONFIG;
    return defaultInstance ?? (defaultInstance = new _Telegraphy(config ?? {}, true));
  }
  static configure(options) {
    return _Telegraphy.default.configure(options);
  }
  static register(name, handler, options) {
    return _Telegraphy.default.register(name, handler, options);
  }
  static unregister(name, handler) {
    return _Telegraphy.default.unregister(name, handler);
  }
  /** Calls `handler` with every event named `name` (`app.Model`, or `app.*`). */
  register(name, handler, options) {
    this.registry.push([name, handler, this.subscribe(name, handler, options)]);
    return this;
  }
  /** Stops calling `handler` (or every handler registered) for `name`. */
  unregister(name, handler) {
    this.registry = this.registry.filter(([n, h, subscription]) => {
      const drop = n === name && (handler === void 0 || h === handler);
      if (drop) subscription.unsubscribe().catch(noop);
      return !drop;
    });
    return this;
  }
  // -- the modern API -------------------------------------------------------------------
  /** Change options; a new url, realm or token reconnects at once. */
  configure(options) {
    Object.assign(this.options, options);
    if (options.token) this.token = options.token;
    if (options.store) this.store = options.store;
    this.dropIfAnotherUsers();
    if (this.session) this.session.drop(1e3, "reconfigured");
    else if (this.state === "reconnecting") this.retryNow();
    else this.connect();
    return this;
  }
  subscribe(name, handler, options) {
    return this.subscribeTo(name, "event", handler, options);
  }
  /** The last `limit` events named `name` the gateway keeps, oldest first. */
  history(name, limit = 100) {
    return this.historyOf(name, "event", limit);
  }
  channel(name) {
    const { topic } = topicOf(name, this.prefix("channel"));
    return new Channel(name, topic, this);
  }
  /** Connect (subscribing and publishing do it on their own). */
  connect() {
    if (this.state !== "idle" && this.state !== "closed") return this;
    if (!this.options.url) {
      if (this.lazy) return this;
      throw new TypeError("Telegraphy: no url to connect to");
    }
    this.failures = 0;
    void this.attempt();
    return this;
  }
  /** Leave the gateway and stop reconnecting; `connect()` starts again. */
  close() {
    this.stopTimers();
    const session = this.session;
    this.setClosed();
    if (session) {
      session.leave();
      this.timers.connect = setTimeout(() => session.drop(1e3, "goodbye timeout"), 2e3);
    } else this.emit("closed", { code: 1e3, reason: "closed by the client", willReconnect: false });
  }
  /** @internal */
  subscribeTo(name, kind, handler, options = {}) {
    const { topic, match } = topicOf(name, this.prefix(kind));
    const filter = filterOf(options.filter);
    const key = keyOf(topic, match, filter);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = newEntry(name, topic, match, filter, options.since, !this.everOpen);
      this.entries.set(key, entry);
    }
    const upgrade = options.persistent === true && !entry.persistent || options.presence === true && !entry.presence;
    entry.persistent || (entry.persistent = options.persistent === true);
    entry.presence || (entry.presence = options.presence === true);
    const subscription = new Subscription(name, topic, match, this, filter);
    if (handler) subscription.on("*", handler);
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
  async release(subscription) {
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
  async publishTo(name, topic, data, options) {
    if (topic.endsWith(".")) throw new TypeError(`Telegraphy: cannot publish to a pattern: ${name}`);
    const meta = { event_type: options.eventType ?? "message", timestamp: (/* @__PURE__ */ new Date()).toISOString(), id: newId() };
    const session = await this.opened();
    await session.publish(topic, [{ name, meta, data }], options.echo ? { exclude_me: false } : {});
  }
  /** @internal */
  async historyOf(name, kind, limit) {
    const { topic, match } = topicOf(name, this.prefix(kind));
    if (match !== "exact") throw new TypeError(`Telegraphy: no history for a pattern: ${name}`);
    const session = await this.opened();
    const [result] = await session.call(HISTORY_PROCEDURE, [topic, limit]);
    return result.events.map((e) => e.args[0] ?? e.kwargs);
  }
  /** @internal */
  async presenceOf(name) {
    const session = await this.opened();
    const [result] = await session.call(PRESENCE_PROCEDURE, [name]);
    return result.members;
  }
  // -- connecting -----------------------------------------------------------------------
  prefix(kind) {
    if (kind === "presence") return "telegraphy.presence";
    return kind === "event" ? this.options.topicPrefix ?? "telegraphy.event" : this.options.channelPrefix ?? "telegraphy.channel";
  }
  opened() {
    this.connect();
    if (this.session?.established) return Promise.resolve(this.session);
    return new Promise((resolve, reject) => {
      this.waiters.push([() => resolve(this.session), reject]);
    });
  }
  tokenSource() {
    return Boolean(this.options.getToken || this.options.tokenUrl);
  }
  async freshToken() {
    const { getToken, tokenUrl } = this.options;
    if (getToken) return await getToken() || null;
    if (!tokenUrl) return null;
    const response = await fetch(tokenUrl, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`Telegraphy: GET ${tokenUrl} answered ${response.status}`);
    return (await response.json()).token || null;
  }
  async credentials() {
    let token = this.token;
    this.token = null;
    if (!token && this.tokenSource()) {
      token = await this.freshToken().catch((e) => (this.emit("error", e), null));
    }
    const extra = this.clientId ? { previous_session: this.clientId } : {};
    if (this.clientId) {
      const recover = recoverOf(this.entries.values(), this.everOpen ? void 0 : this.options.since);
      if (recover) extra.recover = recover;
    }
    if (token) return { methods: ["ticket"], token, extra };
    if (this.clientId && this.method !== "anonymous") {
      return { methods: ["ticket", "anonymous"], token: "", extra };
    }
    return { methods: ["anonymous"], token: null, extra };
  }
  async attempt() {
    this.state = "connecting";
    this.emit("connecting", { attempt: this.failures });
    const auth = await this.credentials();
    if (this.state !== "connecting") return;
    const Socket = this.options.WebSocket ?? globalThis.WebSocket;
    let socket;
    try {
      socket = new Socket(this.options.url, ["wamp.2.json"]);
    } catch (e) {
      this.emit("error", e);
      return this.retry(true);
    }
    const session = new Session(socket, {
      welcome: (details) => this.welcomed(session, details, auth),
      challenge: (method) => method === "ticket" ? auth.token ?? "" : "",
      event: (id, args, kwargs, details) => this.deliver(id, args, kwargs, details),
      revoked: (id) => this.revoked(id),
      ended: (ending) => this.ended(session, ending, auth)
    });
    this.session = session;
    socket.onopen = () => {
      if (socket.protocol && socket.protocol !== "wamp.2.json") {
        return session.drop(1e3, "no wamp.2.json", new WampError("telegraphy.error.subprotocol"));
      }
      session.hello(this.options.realm ?? "telegraphy", auth.methods, auth.extra);
    };
    const ms = this.options.connectTimeout ?? 1e4;
    this.timers.connect = setTimeout(() => {
      const error = new WampError("telegraphy.error.timeout", [`no WELCOME within ${ms} ms`]);
      session.drop(1e3, "connect timeout", error);
    }, ms);
  }
  welcomed(session, details, auth) {
    clearTimeout(this.timers.connect);
    const extra = details.authextra ?? {};
    const resumed = extra.resumed === true;
    const missedBefore = this.everOpen || auth.extra.previous_session !== void 0;
    this.method = details.authmethod ?? "";
    this.everOpen = true;
    this.failures = 0;
    if (typeof extra.client_id === "string") {
      this.clientId = extra.client_id;
      this.owner = this.options.user;
      this.store.save(storedValue(this.clientId, this.owner), extra.client_expires);
    }
    this.state = "open";
    this.syncSubscriptions(session, resumed ? extra.subscriptions : []);
    const { authid, authrole } = details;
    this.emit("open", { session: session.id, authid, authrole, clientId: this.clientId, resumed });
    if (resumed) this.emit("resumed", { clientId: this.clientId });
    const known = extra.missed_events === "none" || extra.missed_events === "recovering";
    if (resumed && !known) this.emit("missed", { reason: "unknown" });
    else if (!resumed && missedBefore) {
      this.emit("missed", { reason: "not-resumed", message: this.refusal });
    }
    this.refusal = void 0;
    for (const [resolve] of this.waiters.splice(0)) resolve();
    this.heartbeat(session);
  }
  ended(session, ending, auth) {
    if (session !== this.session) return;
    this.session = null;
    this.stopTimers();
    this.byId.clear();
    for (const entry of this.entries.values()) {
      entry.id = null;
      entry.pending = false;
    }
    const error = ending.abort;
    const joining = this.state === "connecting";
    let immediate = false;
    if (error?.uri === DENIED && joining && auth.extra.previous_session !== void 0 && /previous_session/.test(error.message)) {
      this.forget();
      this.token = auth.token || null;
      this.refusal = String(error.args[0]);
      immediate = true;
    } else if (error?.uri === "telegraphy.error.session_replaced") {
      this.clientId = null;
    }
    if (error && !immediate) this.emit("error", error);
    const willReconnect = this.state !== "closed" && this.options.reconnect !== false;
    this.emit("closed", { code: ending.code, reason: ending.reason, error, willReconnect });
    if (willReconnect) this.retry(!immediate);
    else this.setClosed();
  }
  stopTimers() {
    for (const timer of Object.values(this.timers)) clearTimeout(timer);
  }
  load() {
    const [clientId, owner] = storedClient(this.store.load());
    this.clientId = clientId;
    this.owner = owner;
    this.dropIfAnotherUsers();
  }
  /** A client id given to another user (signed in or out since) is not resumed: the gateway
   * would refuse it. The page starts afresh instead. */
  dropIfAnotherUsers() {
    const user = this.options.user;
    if (this.owner !== void 0 && user !== void 0 && user !== this.owner) this.clientId = null;
  }
  forget() {
    this.clientId = null;
    this.store.clear();
  }
  retry(backoff) {
    const options = { ...RECONNECT_DEFAULTS, ...this.options.reconnect || {} };
    if (backoff && this.failures >= options.maxAttempts) {
      this.emit("error", new WampError("telegraphy.error.gave_up", ["too many failed attempts"]));
      return this.setClosed();
    }
    const delay = backoff ? backoffDelay(this.failures++, options) : 0;
    this.state = "reconnecting";
    this.emit("reconnecting", { attempt: this.failures, delay });
    this.timers.retry = setTimeout(() => this.attempt(), delay);
  }
  retryNow() {
    clearTimeout(this.timers.retry);
    void this.attempt();
  }
  setClosed() {
    this.state = "closed";
    const error = new WampError(LOST, ["the client is closed"]);
    for (const [, reject] of this.waiters.splice(0)) reject(error);
  }
  heartbeat(session) {
    const { interval = 25e3, timeout = 1e4 } = this.options.heartbeat || {};
    if (this.options.heartbeat === false) return;
    this.timers.beat = setTimeout(() => {
      this.timers.deadline = setTimeout(() => {
        const error = new WampError("telegraphy.error.heartbeat_timeout", [`no answer in ${timeout} ms`]);
        session.drop(1e3, "heartbeat timeout", error);
      }, timeout);
      const alive = (e) => {
        clearTimeout(this.timers.deadline);
        if (e?.uri !== LOST && this.session === session && session.established) {
          this.heartbeat(session);
        }
      };
      session.call(HEARTBEAT_PROCEDURE).then(() => alive(), alive);
    }, interval);
  }
  // -- subscriptions --------------------------------------------------------------------
  syncSubscriptions(session, restored = []) {
    const unwanted = /* @__PURE__ */ new Set();
    for (const { id, topic, match, persistent, filter } of restored) {
      const entry = this.entries.get(keyOf(topic, match, filterOf(filter)));
      if (entry && entry.id === null) {
        this.adopt(entry, id);
        if (entry.persistent && !persistent) this.subscribeEntry(session, entry);
      } else unwanted.add(id);
    }
    for (const id of unwanted) {
      if (!this.byId.has(id)) session.unsubscribe(id).catch(noop);
    }
    for (const entry of this.entries.values()) {
      if (entry.id === null && !entry.pending) this.subscribeEntry(session, entry);
    }
  }
  subscribeEntry(session, entry) {
    const pageSince = entry.early ? this.options.since : void 0;
    const options = subscribeOptions(entry, entry.fresh ? entry.since ?? pageSince : void 0);
    if (entry.fresh && this.options.debug) this.checkDefined(entry);
    entry.pending = true;
    session.subscribe(entry.topic, options, (error, id) => {
      if (session !== this.session || !session.established) return;
      entry.pending = false;
      if (error) {
        error.topic = entry.topic;
        this.warn(`subscription to ${JSON.stringify(entry.name)} refused: ${error.message}`);
        for (const subscription of entry.subs) subscription.settled(error);
        return this.emit("error", error);
      }
      if (entry.subs.size === 0) {
        this.entries.delete(entry.key);
        return void session.unsubscribe(id).catch(noop);
      }
      this.adopt(entry, id);
      if (entry.persistent && !options.persistent || entry.presence && !options.presence) {
        this.subscribeEntry(session, entry);
      }
    });
  }
  /** In debug mode: an event name that matches nothing the web app defines is a typo. */
  checkDefined(entry) {
    const defined = this.options.events;
    const events = this.prefix("event") + ".";
    if (!defined || !entry.topic.startsWith(events)) return;
    const name = entry.topic.slice(events.length);
    const matches = (d) => entry.match === "exact" ? d === name : d.startsWith(name);
    if (defined.some(matches)) return;
    const known = defined.length ? `; the app defines ${defined.join(", ")}` : "";
    this.warn(`no event named ${JSON.stringify(entry.name)}${known}`);
  }
  warn(message) {
    if (this.options.debug) console.warn(`Telegraphy: ${message}`);
  }
  adopt(entry, id) {
    entry.id = id;
    entry.fresh = false;
    const sharing = this.byId.get(id) ?? [];
    if (!sharing.includes(entry)) this.byId.set(id, [...sharing, entry]);
    for (const subscription of entry.subs) subscription.settled();
  }
  deliver(id, args, kwargs, details) {
    for (const entry of this.byId.get(id) ?? []) this.deliverTo(entry, args, kwargs, details);
  }
  deliverTo(entry, args, kwargs, details) {
    if (args.length === 0 && Array.isArray(details.recovery)) return this.report(entry, details.recovery);
    const topic = typeof details.topic === "string" ? details.topic : entry.topic;
    if (!advance(entry, topic, details.offset, details.epoch)) return;
    const event = args[0] ?? kwargs;
    for (const subscription of entry.subs) subscription.deliver(event, details);
  }
  report(entry, report) {
    for (const { topic, offset, epoch, recovered, gap } of report) {
      advance(entry, topic, offset, epoch);
      const name = entry.name;
      if (gap) {
        const at = typeof offset === "number" ? { offset, epoch } : {};
        this.tell(entry, "gap", { name, topic, reason: gap, ...at });
      } else this.tell(entry, "recovered", { name, topic, count: recovered ?? 0 });
    }
  }
  tell(entry, kind, info) {
    for (const subscription of entry.subs) subscription.notify(kind, info);
    this.emit(kind, info);
  }
  revoked(id) {
    const entries = this.byId.get(id) ?? [];
    this.byId.delete(id);
    for (const entry of entries) entry.id = null;
    this.emit("error", new WampError("telegraphy.error.subscription_revoked", [entries[0]?.topic]));
  }
};
function newEntry(name, topic, match, filter, since, early) {
  const positions = /* @__PURE__ */ new Map();
  const state = { id: null, pending: false, persistent: false, presence: false, fresh: true };
  const key = keyOf(topic, match, filter);
  return { name, topic, match, filter, key, subs: /* @__PURE__ */ new Set(), since, early, positions, ...state };
}
function advance(entry, topic, offset, epoch) {
  if (typeof offset !== "number" || typeof epoch !== "string") return true;
  const kept = entry.positions.get(topic);
  if (kept && kept.epoch === epoch && offset <= kept.offset) return false;
  entry.positions.set(topic, { offset, epoch });
  return true;
}
function recoverOf(entries, since) {
  const positions = {};
  let count = 0;
  for (const entry of entries) {
    for (const [topic, position] of entry.positions) {
      const other = positions[topic];
      if (other && (other.epoch !== position.epoch || other.offset <= position.offset)) continue;
      if (!other && count++ >= MAX_POSITIONS) continue;
      positions[topic] = position;
    }
  }
  if (count > 0) return since === void 0 ? { positions } : { positions, since };
  return since === void 0 ? null : { since };
}
function subscribeOptions(entry, since) {
  const options = entry.match === "exact" ? {} : { match: entry.match };
  if (entry.persistent) options.persistent = true;
  if (entry.presence) options.presence = true;
  if (entry.filter) options.filter = entry.filter;
  const recover = entry.id === null && recoverOf([entry], entry.positions.size ? void 0 : since);
  if (recover) options.recover = recover;
  return options;
}
function storedValue(clientId, owner) {
  return owner === void 0 ? clientId : `${clientId} ${owner ?? ""}`;
}
function storedClient(value) {
  const space = value?.indexOf(" ") ?? -1;
  if (!value || space < 0) return [value || null, void 0];
  return [value.slice(0, space), value.slice(space + 1) || null];
}
function newId() {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// src/fragments.ts
var FRAGMENT_ATTRIBUTE = "data-telegraphy-fragment";
var ACTION_ATTRIBUTE = "data-telegraphy-action";
var OBJECT_ATTRIBUTE = "data-telegraphy-object";
var HTMX_SCOPE = '[hx-ext*="telegraphy"],[data-hx-ext*="telegraphy"]';
function fragmentOf(event) {
  const meta = event?.meta;
  const fragment = meta?.fragment;
  if (!fragment || typeof fragment !== "object" || meta.channel !== void 0) return null;
  if (typeof fragment.object !== "string") return null;
  if (fragment.html !== void 0 && typeof fragment.html !== "string") return null;
  return fragment;
}
function markedElements(root, htmx = false) {
  const all = Array.from(root.querySelectorAll(`[${FRAGMENT_ATTRIBUTE}]`));
  if (root instanceof Element && root.hasAttribute(FRAGMENT_ATTRIBUTE)) all.unshift(root);
  return all.filter((element) => element.closest(HTMX_SCOPE) !== null === htmx);
}
function changesFor(root, event, htmx = false) {
  const fragment = fragmentOf(event);
  if (!fragment) return [];
  const removed = event.meta.event_type === "delete" || fragment.html === void 0;
  const changes = [];
  for (const element of markedElements(root, htmx)) {
    if (element.getAttribute(FRAGMENT_ATTRIBUTE) !== event.name) continue;
    const change = changeOf(element, fragment, removed);
    if (change) changes.push(change);
  }
  return changes;
}
function changeOf(element, fragment, removed) {
  const action = element.getAttribute(ACTION_ATTRIBUTE) || "append";
  if (action === "append" || action === "prepend") {
    const current = childFor(element, fragment.object);
    if (removed) return current ? { kind: "remove", target: current } : null;
    const node2 = parse2(element, fragment);
    if (!node2) return null;
    if (current) return { kind: "replace", target: current, node: node2 };
    return { kind: "insert", target: element, at: action === "append" ? "beforeend" : "afterbegin", node: node2 };
  }
  if (element.getAttribute(OBJECT_ATTRIBUTE) !== fragment.object) return null;
  if (removed) return { kind: "remove", target: element };
  const node = action === "replace" ? parse2(element, fragment) : null;
  if (!node) return null;
  for (const name of ["id", FRAGMENT_ATTRIBUTE, ACTION_ATTRIBUTE]) {
    const value = element.getAttribute(name);
    if (value !== null) node.setAttribute(name, value);
  }
  return { kind: "replace", target: element, node };
}
function childFor(element, object) {
  for (const child of Array.from(element.children)) {
    if (child.getAttribute(OBJECT_ATTRIBUTE) === object) return child;
  }
  return null;
}
function parse2(near, fragment) {
  const template = near.ownerDocument.createElement("template");
  template.innerHTML = fragment.html ?? "";
  const content = template.content;
  if (content.childElementCount !== 1) return null;
  const node = content.firstElementChild;
  node.setAttribute(OBJECT_ATTRIBUTE, fragment.object);
  return node;
}
function applyFragment(root, event) {
  const changes = changesFor(root, event);
  for (const change of changes) {
    if (change.kind === "remove") change.target.remove();
    else if (change.kind === "replace") change.target.replaceWith(change.node);
    else change.target.insertAdjacentElement(change.at, change.node);
  }
  return changes.length;
}
function watchMarked(client, root, handler, htmx = false) {
  const names = /* @__PURE__ */ new Set();
  const scan = (under) => {
    for (const element of markedElements(under, htmx)) {
      const name = element.getAttribute(FRAGMENT_ATTRIBUTE);
      if (!names.has(name)) names.add(name), client.register(name, handler);
    }
  };
  scan(root);
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of Array.from(record.addedNodes)) if (node instanceof Element) scan(node);
    }
  }).observe(root, { childList: true, subtree: true });
}
function liveFragments(client, root) {
  watchMarked(client, root, (event) => applyFragment(root, event));
}
export {
  ACTION_ATTRIBUTE,
  COOKIE,
  Channel,
  FRAGMENT_ATTRIBUTE,
  HEARTBEAT_PROCEDURE,
  HISTORY_PROCEDURE,
  OBJECT_ATTRIBUTE,
  PRESENCE_PROCEDURE,
  RECONNECT_DEFAULTS,
  Subscription,
  Telegraphy,
  WampError,
  applyFragment,
  backoffDelay,
  cookieStore,
  Telegraphy as default,
  fragmentOf,
  liveFragments
};
