export declare const COOKIE = "telegraphy_client";
export interface ClientStore {
    load(): string | null;
    save(clientId: string, expires: number | undefined): void;
    clear(): void;
}
export declare function cookieStore(doc?: Document | undefined): ClientStore;
