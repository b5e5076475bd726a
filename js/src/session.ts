// One WAMP session over one WebSocket: the opening handshake, requests and their replies,
// events, and the ways a session ends (GOODBYE, ABORT, a protocol violation, a lost socket).

import * as W from './wamp';
import { WampError, type Dict } from './wamp';

/** What a session needs of a WebSocket: the browser's, or one with the same interface (`ws`). */
export interface SocketLike {
  readonly protocol: string;
  // `any` events: the DOM's and `ws`'s handler types must both fit.
  onopen: ((event: any) => void) | null;
  onmessage: ((event: any) => void) | null;
  onclose: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface Welcome {
  session: number;
  authid?: string;
  authrole?: string;
  authmethod?: string;
  authextra?: Dict;
  [key: string]: unknown;
}

/** How a session ended: `abort` is set when the router refused or aborted it. */
export interface Ending {
  code: number;
  reason: string;
  abort?: WampError;
}

export interface SessionHooks {
  welcome(details: Welcome): void;
  challenge(method: string, extra: Dict): string;
  event(subscription: number, args: unknown[], kwargs: Dict, details: Dict): void;
  revoked(subscription: number): void;
  ended(ending: Ending): void;
}

interface Pending {
  expects: number;
  resolve(message: unknown[]): void;
  reject(error: WampError): void;
}

const ROLES = { subscriber: {}, publisher: {}, caller: {} };
const SUCCESS: Record<number, number> = {
  [W.SUBSCRIBE]: W.SUBSCRIBED,
  [W.UNSUBSCRIBE]: W.UNSUBSCRIBED,
  [W.PUBLISH]: W.PUBLISHED,
  [W.CALL]: W.RESULT,
};

export class Session {
  id = 0;
  private phase: 'joining' | 'established' | 'closing' | 'ended' = 'joining';
  private pending = new Map<number, Pending>();
  private lastRequest = 0;

  constructor(
    private readonly socket: SocketLike,
    private readonly hooks: SessionHooks,
  ) {
    socket.onmessage = (e: { data: unknown }) => this.receive(e.data);
    socket.onclose = (e: { code: number; reason: string }) => this.end({ code: e.code, reason: e.reason });
    socket.onerror = () => {}; // a close event always follows
  }

  get established(): boolean {
    return this.phase === 'established';
  }

  hello(realm: string, authmethods: string[], authextra: Dict): void {
    this.send([W.HELLO, realm, { roles: ROLES, authmethods, authextra }]);
  }

  /** Calls `done` synchronously with the reply: an EVENT may follow SUBSCRIBED in one chunk. */
  subscribe(topic: string, options: Dict, done: (error: WampError | null, id: number) => void): void {
    this.request(W.SUBSCRIBE, [options, topic], {
      resolve: (m) => done(null, m[2] as number),
      reject: (e) => done(e, 0),
    }).catch(() => {});
  }

  unsubscribe(subscription: number): Promise<void> {
    return this.request(W.UNSUBSCRIBE, [subscription]).then(() => undefined);
  }

  publish(topic: string, args: unknown[], options: Dict): Promise<void> {
    const message = [{ ...options, acknowledge: true }, topic, args];
    return this.request(W.PUBLISH, message).then(() => undefined);
  }

  call(procedure: string, args: unknown[] = []): Promise<unknown[]> {
    return this.request(W.CALL, [{}, procedure, args]).then((m) => (m[3] as unknown[]) ?? []);
  }

  /** Say GOODBYE; the router answers and the socket closes. */
  leave(): void {
    if (this.phase !== 'established') return this.drop(1000, 'closed by the client');
    this.phase = 'closing';
    this.send([W.GOODBYE, {}, 'wamp.close.close_realm']);
  }

  /** End the session now, without waiting on the peer (a dead connection, a violation). */
  drop(code: number, reason: string, abort?: WampError): void {
    if (this.phase === 'ended') return;
    this.end({ code, reason, abort });
    try {
      this.socket.close(1000); // browsers accept only 1000 and 3000-4999 from a page
    } catch {
      // some implementations throw when closing a socket that never opened: it is gone anyway
    }
  }

  private request(type: number, fields: unknown[], sync?: Omit<Pending, 'expects'>): Promise<unknown[]> {
    if (this.phase !== 'established') {
      const error = new WampError('telegraphy.error.not_connected', ['not connected']);
      sync?.reject(error);
      return Promise.reject(error);
    }
    const request = ++this.lastRequest;
    return new Promise((resolve, reject) => {
      this.pending.set(request, {
        expects: SUCCESS[type],
        resolve: (m) => (sync?.resolve(m), resolve(m)),
        reject: (e) => (sync?.reject(e), reject(e)),
      });
      this.send([type, request, ...fields]);
    });
  }

  private send(message: unknown[]): void {
    this.socket.send(JSON.stringify(message));
  }

  private violation(text: string): void {
    if (this.phase === 'ended') return;
    try {
      this.send([W.ABORT, { message: text }, 'wamp.error.protocol_violation']);
    } catch {
      // the socket may be closing already
    }
    this.drop(1002, 'protocol violation', new WampError('wamp.error.protocol_violation', [text]));
  }

  private end(ending: Ending): void {
    if (this.phase === 'ended') return;
    this.phase = 'ended';
    this.socket.onmessage = this.socket.onclose = null;
    const lost = new WampError('telegraphy.error.connection_lost', [ending.reason || 'lost']);
    for (const pending of this.pending.values()) pending.reject(lost);
    this.pending.clear();
    this.hooks.ended(ending);
  }

  private receive(data: unknown): void {
    if (typeof data !== 'string') return this.violation('a binary frame on wamp.2.json');
    const message = W.parse(data);
    if (typeof message === 'string') return this.violation(message);
    const type = message[0] as number;
    if (type === W.ABORT) return this.aborted(message);
    if (this.phase === 'joining') return this.joining(type, message);
    if (type === W.GOODBYE) return this.goodbye();
    if (this.phase !== 'established') return; // closing: only GOODBYE matters now
    if (type === W.EVENT) {
      const [, sub, , details, args, kwargs] = message as [0, number, 0, Dict, unknown[]?, Dict?];
      return this.hooks.event(sub, args ?? [], kwargs ?? {}, details);
    }
    if (type === W.UNSUBSCRIBED && message[1] === 0) {
      const sub = (message[2] as Dict | undefined)?.subscription;
      return typeof sub === 'number' ? this.hooks.revoked(sub) : undefined;
    }
    this.reply(type, message);
  }

  private joining(type: number, message: unknown[]): void {
    if (type === W.CHALLENGE) {
      this.send([W.AUTHENTICATE, this.hooks.challenge(message[1] as string, message[2] as Dict), {}]);
    } else if (type === W.WELCOME) {
      this.id = message[1] as number;
      this.phase = 'established';
      this.hooks.welcome({ ...(message[2] as Dict), session: this.id });
    } else {
      this.violation(`message type ${type} before WELCOME`);
    }
  }

  private aborted(message: unknown[]): void {
    const details = message[1] as Dict;
    const text = typeof details.message === 'string' ? [details.message] : [];
    this.drop(1000, 'aborted', new WampError(message[2] as string, text, details));
  }

  private goodbye(): void {
    if (this.phase === 'established') this.send([W.GOODBYE, {}, 'wamp.close.goodbye_and_out']);
    this.drop(1000, 'goodbye');
  }

  private reply(type: number, message: unknown[]): void {
    const request = (type === W.ERROR ? message[2] : message[1]) as number;
    const pending = this.pending.get(request);
    if (pending === undefined) return this.violation(`a reply to unknown request ${request}`);
    this.pending.delete(request);
    if (type === W.ERROR) {
      const [, , , , uri, args, kwargs] = message as [0, 0, 0, Dict, string, unknown[]?, Dict?];
      pending.reject(new WampError(uri, args, kwargs));
    } else if (type === pending.expects) {
      pending.resolve(message);
    } else {
      this.violation(`message type ${type} in reply to a request expecting ${pending.expects}`);
    }
  }
}
