// Type-checked by `npm test` (tsc --noEmit), never run: the public API as a TypeScript page
// uses it, including the browser's own WebSocket class as the `WebSocket` option.

import Default, { Telegraphy, WampError, type TEvent } from '../src/index';

interface Order {
  id: number;
  total: number;
}

const t = new Telegraphy({ url: 'ws://127.0.0.1:9000/ws', WebSocket, getToken: async () => 'tg1.x' });
const subscription = t
  .subscribe<Order>('shop.Order', (event: TEvent<Order>) => event.data.total.toFixed(2))
  .on('create', (event) => event.meta.event_type.toUpperCase());
void subscription.ready.catch((e: WampError) => e.uri);
t.on('missed', ({ reason }) => reason === 'unknown');
t.on('open', (info) => info.clientId);
void t.channel<{ text: string }>('chat.room-1').publish({ text: 'hi' }, { echo: true });
Default.configure({ url: 'ws://127.0.0.1:9000/ws' });
Telegraphy.register('app.Model', (e) => e.name).unregister('app.Model');
const kept = t.subscribe<Order>('shop.Order', undefined, { persistent: true, since: 1767268800 });
kept.on('gap', (gap) => gap.reason === 'too_old' && gap.offset).on('recovered', ({ count }) => count + 1);
t.on('gap', ({ topic, reason }) => `${topic}: ${reason}`);
t.on('recovered', (info) => info.count);
void t.history<Order>('shop.Order', 10).then((events) => events.map((e) => e.data.total));
void t.channel<{ text: string }>('chat.room-1').history().then((messages) => messages[0]?.data.text);
Telegraphy.register('app.Model', (e) => e.name, { persistent: true });
new Telegraphy({ since: Date.now() / 1000 });
