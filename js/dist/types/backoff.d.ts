export interface ReconnectOptions {
    /** Delay before the first retry, in ms (default 500). */
    initialDelay?: number;
    /** The cap, in ms (default 30000). */
    maxDelay?: number;
    /** Growth per failed attempt (default 2). */
    factor?: number;
    /** Fraction of each delay drawn at random, 0 to 1 (default 0.5). */
    jitter?: number;
    /** Give up after this many failed attempts in a row (default: never). */
    maxAttempts?: number;
}
export declare const RECONNECT_DEFAULTS: Required<ReconnectOptions>;
/** The delay before retry number `attempt` (0-based): within [(1 - jitter) * d, d]. */
export declare function backoffDelay(attempt: number, options: Required<ReconnectOptions>, random?: () => number): number;
