export declare const HELLO = 1;
export declare const WELCOME = 2;
export declare const ABORT = 3;
export declare const CHALLENGE = 4;
export declare const AUTHENTICATE = 5;
export declare const GOODBYE = 6;
export declare const ERROR = 8;
export declare const PUBLISH = 16;
export declare const PUBLISHED = 17;
export declare const SUBSCRIBE = 32;
export declare const SUBSCRIBED = 33;
export declare const UNSUBSCRIBE = 34;
export declare const UNSUBSCRIBED = 35;
export declare const EVENT = 36;
export declare const CALL = 48;
export declare const RESULT = 50;
export type Dict = Record<string, unknown>;
/** A WAMP error (an ERROR reply, or an ABORT) with its URI, e.g. `wamp.error.not_authorized`. */
export declare class WampError extends Error {
    readonly uri: string;
    readonly args: unknown[];
    readonly kwargs: Dict;
    constructor(uri: string, args?: unknown[], kwargs?: Dict);
}
/** Parse one text frame into a message, or explain why it is not one a client accepts. */
export declare function parse(text: string): unknown[] | string;
