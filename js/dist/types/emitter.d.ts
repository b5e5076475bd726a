export type Listener<T> = (value: T) => void;
export declare class Emitter<Events extends object> {
    private listeners;
    on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void;
    off<K extends keyof Events>(name: K, listener?: Listener<Events[K]>): void;
    protected emit<K extends keyof Events>(name: K, value: Events[K]): void;
    protected listening(name: keyof Events): boolean;
}
/** Rethrow outside our call stack: the page sees its own bug, our state stays consistent. */
export declare function reportLater(error: unknown): void;
