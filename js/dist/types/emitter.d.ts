export type Listener<T> = (value: T) => void;
export declare class Emitter<Events extends object> {
    private listeners;
    on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void;
    off<K extends keyof Events>(name: K, listener?: Listener<Events[K]>): void;
    protected emit<K extends keyof Events>(name: K, value: Events[K]): void;
    protected listening(name: keyof Events): boolean;
}
/** Call `fn`; what it throws is reported without stopping the caller's loop. */
export declare function safely(fn: () => void): void;
