// Reconnection delays: exponential, capped, with jitter so that a gateway restart is not met
// by every page reconnecting in the same millisecond.

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

export const RECONNECT_DEFAULTS: Required<ReconnectOptions> = {
  initialDelay: 500,
  maxDelay: 30000,
  factor: 2,
  jitter: 0.5,
  maxAttempts: Infinity,
};

/** The delay before retry number `attempt` (0-based): within [(1 - jitter) * d, d]. */
export function backoffDelay(
  attempt: number,
  options: Required<ReconnectOptions>,
  random: () => number = Math.random,
): number {
  const base = Math.min(options.maxDelay, options.initialDelay * options.factor ** attempt);
  const jitter = Math.min(1, Math.max(0, options.jitter));
  return Math.round(base * (1 - jitter * random()));
}
