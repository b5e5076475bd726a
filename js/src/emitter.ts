// A minimal event emitter: listeners run in order; one that throws does not stop the others.

export type Listener<T> = (value: T) => void;

export class Emitter<Events extends object> {
  private listeners: { [K in keyof Events]?: Listener<Events[K]>[] } = {};

  on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    (this.listeners[name] ??= []).push(listener);
    return () => this.off(name, listener);
  }

  off<K extends keyof Events>(name: K, listener?: Listener<Events[K]>): void {
    const list = this.listeners[name];
    if (list) this.listeners[name] = listener ? list.filter((l) => l !== listener) : [];
  }

  protected emit<K extends keyof Events>(name: K, value: Events[K]): void {
    for (const listener of this.listeners[name] ?? []) safely(() => listener(value));
  }

  protected listening(name: keyof Events): boolean {
    return (this.listeners[name]?.length ?? 0) > 0;
  }
}

/** Call `fn`; what it throws is reported without stopping the caller's loop. */
export function safely(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    reportLater(e);
  }
}

/** Rethrow outside our call stack: the page sees its own bug, our state stays consistent. */
function reportLater(error: unknown): void {
  setTimeout(() => {
    throw error;
  });
}
