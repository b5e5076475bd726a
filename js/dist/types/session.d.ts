import { WampError, type Dict } from './wamp';
/** What a session needs of a WebSocket: the browser's, or one with the same interface (`ws`). */
export interface SocketLike {
    readonly protocol: string;
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
export declare class Session {
    private readonly socket;
    private readonly hooks;
    id: number;
    private phase;
    private pending;
    private lastRequest;
    constructor(socket: SocketLike, hooks: SessionHooks);
    get established(): boolean;
    hello(realm: string, authmethods: string[], authextra: Dict): void;
    /** Calls `done` synchronously with the reply: an EVENT may follow SUBSCRIBED in one chunk. */
    subscribe(topic: string, options: Dict, done: (error: WampError | null, id: number) => void): void;
    unsubscribe(subscription: number): Promise<void>;
    publish(topic: string, args: unknown[], options: Dict): Promise<void>;
    call(procedure: string, args?: unknown[]): Promise<unknown[]>;
    /** Say GOODBYE; the router answers and the socket closes. */
    leave(): void;
    /** End the session now, without waiting on the peer (a dead connection, a violation). */
    drop(code: number, reason: string, abort?: WampError): void;
    private request;
    private send;
    private violation;
    private end;
    private receive;
    private joining;
    private aborted;
    private goodbye;
    private reply;
}
