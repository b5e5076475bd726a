// Where the client id the gateway gave is kept between connections: in memory always, and in
// the browser also in the cookie `telegraphy_client`, so that a reload can resume it. The value
// is the client's own (the id, and whom it was given to): a store keeps it as it is.

export const COOKIE = 'telegraphy_client';

export interface ClientStore {
  load(): string | null;
  save(clientId: string, expires: number | undefined): void;
  clear(): void;
}

const none: ClientStore = { load: () => null, save: () => {}, clear: () => {} };

export function cookieStore(doc: Document | undefined = globalThis.document): ClientStore {
  if (doc === undefined) return none;
  const secure = globalThis.location?.protocol === 'https:' ? '; Secure' : '';
  const write = (value: string, expires: Date) => {
    doc.cookie = `${COOKIE}=${value}; expires=${expires.toUTCString()}; path=/; SameSite=Lax${secure}`;
  };
  return {
    load() {
      const found = doc.cookie.split('; ').find((c) => c.startsWith(COOKIE + '='));
      return found ? decodeURIComponent(found.slice(COOKIE.length + 1)) || null : null;
    },
    save(clientId, expires) {
      const when = new Date(expires ? expires * 1000 : Date.now() + 15 * 60 * 1000);
      write(encodeURIComponent(clientId), when);
    },
    clear: () => write('', new Date(0)),
  };
}
