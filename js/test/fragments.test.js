// Live fragments in a real browser (Debian's headless Chromium): how marked elements take the
// server's fragments (unit tests against the ES module, no gateway), then pages with no
// JavaScript of their own, one plain and one on htmx, updated live through a real gateway.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { CONFIG, envelope, JS_ROOT, publish, startGateway } from './support.js';

const CHROMIUM = '/usr/bin/chromium';
const WAIT = { timeout: 10000 };
const FILES = {
  '/telegraphy.mjs': join(JS_ROOT, 'dist', 'telegraphy.mjs'),
  '/telegraphy.min.js': join(JS_ROOT, 'dist', 'telegraphy.min.js'),
  '/telegraphy-htmx.js': join(JS_ROOT, 'dist', 'telegraphy-htmx.js'),
  '/htmx.min.js': join(JS_ROOT, 'node_modules', 'htmx.org', 'dist', 'htmx.min.js'),
};

const UNIT_PAGE = `<!doctype html><html><body>
<script type="module">import * as T from '/telegraphy.mjs'; window.T = T; document.body.dataset.ready = 'yes';</script>
</body></html>`;

// The pages a developer writes: markup only. The <script> elements load libraries and set the
// configuration, as {% telegraphy_scripts %} does.
const ROWS = `<table><tbody id="rows" data-telegraphy-fragment="public.Row" data-telegraphy-action="append">
  <tr data-telegraphy-object="1"><td>one</td></tr>
</tbody></table>`;
const configScript = (url) => `<script>window.TELEGRAPHY_CONFIG = ${JSON.stringify({ url })};</script>`;
const plainPage = (url) => `<!doctype html><html><head>${configScript(url)}
<script src="/telegraphy.min.js"></script></head><body>${ROWS}</body></html>`;
const htmxPage = (url) => `<!doctype html><html><head>${configScript(url)}
<script src="/htmx.min.js"></script><script src="/telegraphy.min.js"></script>
<script src="/telegraphy-htmx.js"></script></head><body hx-ext="telegraphy">${ROWS}</body></html>`;

let gateway;
let server;
let browser;

before(async () => {
  if (!existsSync(CHROMIUM)) throw new Error('install chromium: apt-get install chromium');
  gateway = await startGateway(CONFIG);
  const pages = { '/unit': UNIT_PAGE, '/plain': plainPage(gateway.url), '/htmx': htmxPage(gateway.url) };
  server = createServer((request, response) => {
    const file = FILES[request.url];
    if (file) response.writeHead(200, { 'Content-Type': 'text/javascript' }).end(readFileSync(file));
    else response.writeHead(200, { 'Content-Type': 'text/html' }).end(pages[request.url] ?? '');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  server?.close();
  await gateway?.stop();
});

async function open(path) {
  const tab = await browser.newPage();
  tab.problems = [];
  tab.on('pageerror', (e) => tab.problems.push(e.message));
  await tab.goto(`http://127.0.0.1:${server.address().port}${path}`);
  return tab;
}

/** The unit page with `html` as its body, and a function that applies one event to it. */
async function unit(html) {
  const tab = await open('/unit');
  await tab.waitForSelector('body[data-ready="yes"]', { state: 'attached', ...WAIT });
  await tab.evaluate((markup) => document.body.insertAdjacentHTML('beforeend', markup), html);
  const apply = (event) => tab.evaluate((e) => window.T.applyFragment(document, e), event);
  return { tab, apply };
}

function change(name, eventType, object, html, meta = {}) {
  const event = envelope(name, eventType, { title: 'data is never HTML <b>here</b>' });
  event.meta.fragment = html === undefined ? { object, audience: 'public' } : { object, audience: 'public', html };
  Object.assign(event.meta, meta);
  return event;
}

const texts = (tab, selector) => tab.$$eval(selector, (nodes) => nodes.map((n) => n.textContent.trim()));

test('a list appends new objects, replaces changed ones in place and removes deleted ones', async () => {
  const { tab, apply } = await unit(
    '<ul id="list" data-telegraphy-fragment="shop.Order" data-telegraphy-action="append">' +
      '<li data-telegraphy-object="1">one</li><li data-telegraphy-object="2">two</li></ul>',
  );
  assert.equal(await apply(change('shop.Order', 'create', '3', '<li class="new">three</li>')), 1);
  assert.deepEqual(await texts(tab, '#list li'), ['one', 'two', 'three']);
  assert.equal(await tab.getAttribute('#list li.new', 'data-telegraphy-object'), '3');
  await apply(change('shop.Order', 'update', '1', '<li>one, changed</li>'));
  assert.deepEqual(await texts(tab, '#list li'), ['one, changed', 'two', 'three']);
  await apply(change('shop.Order', 'delete', '2'));
  assert.deepEqual(await texts(tab, '#list li'), ['one, changed', 'three']);
  assert.equal(await apply(change('shop.Order', 'delete', '2')), 0, 'nothing left to remove');
  assert.equal(await apply(change('shop.Other', 'create', '9', '<li>other</li>')), 0);
  assert.deepEqual(tab.problems, []);
});

test('prepend puts new objects first; table rows parse in place', async () => {
  const { tab, apply } = await unit(
    '<table><tbody id="rows" data-telegraphy-fragment="shop.Order" data-telegraphy-action="prepend">' +
      '<tr data-telegraphy-object="1"><td>one</td></tr></tbody></table>',
  );
  await apply(change('shop.Order', 'create', '2', '<tr><td>two</td></tr>'));
  assert.deepEqual(await texts(tab, '#rows tr'), ['two', 'one']);
});

test('an element standing for one object is replaced (staying marked) or removed', async () => {
  const { tab, apply } = await unit(
    '<div id="card" data-telegraphy-fragment="shop.Order" data-telegraphy-action="replace" ' +
      'data-telegraphy-object="7">old</div>' +
      '<p id="notice" data-telegraphy-fragment="shop.Order" data-telegraphy-action="remove" ' +
      'data-telegraphy-object="7">order 7 is open</p>',
  );
  assert.equal(await apply(change('shop.Order', 'update', '8', '<div>not this one</div>')), 0);
  assert.equal(await apply(change('shop.Order', 'update', '7', '<section>new</section>')), 1);
  assert.equal(await tab.textContent('#card'), 'new', 'replaced, id and marks kept');
  assert.equal(await tab.getAttribute('#card', 'data-telegraphy-action'), 'replace');
  assert.equal(await tab.textContent('#notice'), 'order 7 is open', 'remove ignores updates');
  await apply(change('shop.Order', 'update', '7', '<section>newer</section>'));
  assert.equal(await tab.textContent('#card'), 'newer');
  assert.equal(await apply(change('shop.Order', 'delete', '7')), 2);
  assert.equal(await tab.locator('#card, #notice').count(), 0);
});

test('only a server fragment is ever inserted, and its <script> elements never run', async () => {
  const { tab, apply } = await unit(
    '<ul id="list" data-telegraphy-fragment="shop.Order"></ul>' +
      '<ul id="htmx" hx-ext="telegraphy"><li data-telegraphy-fragment="shop.Order"></li></ul>',
  );
  const noFragment = envelope('shop.Order', 'create', { html: '<li>from data</li>' });
  assert.equal(await apply(noFragment), 0, 'data is never HTML');
  const fromChannel = change('shop.Order', 'create', '1', '<li>x</li>', { channel: 'chat.room' });
  assert.equal(await apply(fromChannel), 0, 'a channel message (browsers publish those) is not a fragment');
  assert.equal(await apply(change('shop.Order', 'create', '2', '<li>a</li><li>b</li>')), 0, 'one root');
  assert.equal(await apply(change('shop.Order', 'create', '3', 'text')), 0, 'one root element');
  await apply(change('shop.Order', 'create', '4', '<li><script>window.ran=1</script>4</li>'));
  await tab.waitForTimeout(100);
  assert.equal(await tab.evaluate(() => window.ran), undefined);
  assert.equal(await tab.locator('#list li').count(), 1);
  assert.equal(await tab.locator('#htmx li').count(), 1, 'hx-ext="telegraphy" elements are the extension\'s');
});

/** Waits until the page's client has subscribed to public.Row (the page itself has no JS). */
async function subscribed(tab) {
  await tab.waitForFunction(() => window.Telegraphy?.default, null, WAIT);
  await tab.evaluate(() => window.Telegraphy.default.subscribe('public.Row').ready);
}

async function appendReplaceRemove(tab) {
  await subscribed(tab);
  await publish(gateway, change('public.Row', 'create', '2', '<tr><td>two</td></tr>'));
  await tab.waitForFunction(() => document.querySelectorAll('#rows tr').length === 2, null, WAIT);
  await publish(
    gateway,
    change('public.Row', 'update', '1', '<tr><td>one, changed</td></tr>'),
    change('public.Row', 'delete', '2'),
    change('public.Row', 'create', '3', '<tr><td>three</td></tr>'),
  );
  await tab.waitForFunction(() => document.querySelector('#rows tr:last-child')?.textContent === 'three', null, WAIT);
  assert.deepEqual(await texts(tab, '#rows tr'), ['one, changed', 'three']);
  assert.deepEqual(tab.problems, []);
}

test('a page with no JavaScript of its own appends, replaces and removes rows live', async () => {
  await appendReplaceRemove(await open('/plain'));
});

test('an htmx page does the same through out-of-band swaps', async () => {
  const tab = await open('/htmx');
  const swaps = [];
  await tab.exposeFunction('swapped', (id) => swaps.push(id));
  await tab.evaluate(() => document.body.addEventListener('htmx:oobAfterSwap', (e) => window.swapped(e.target.id)));
  await appendReplaceRemove(tab);
  assert.ok(swaps.length >= 3, `htmx made the swaps: ${swaps}`);
});
