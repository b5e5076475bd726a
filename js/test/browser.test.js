// The script-tag build in a real browser: Debian's headless Chromium loads a plain HTML page
// that includes dist/telegraphy.min.js, configures it and registers a handler; an event
// published through the gateway's ingress must appear in the page's DOM.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { CONFIG, envelope, JS_ROOT, publish, startGateway } from './support.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const page = (gatewayUrl) => `<!doctype html>
<html>
  <head><title>Telegraphy without Django</title>
  <script src="/telegraphy.min.js"></script></head>
  <body>
    <ul id="events"></ul>
    <script>
      Telegraphy.configure({ url: ${JSON.stringify(gatewayUrl)} });
      Telegraphy.register('public.Model', function (tEvent) {
        var li = document.createElement('li');
        li.textContent = tEvent.meta.event_type + ': ' + tEvent.data.title;
        document.getElementById('events').appendChild(li);
      });
      Telegraphy.default.subscribe('public.Model').ready.then(function () {
        document.body.dataset.ready = 'yes';
      });
    </script>
  </body>
</html>`;

let gateway;
let server;
let browser;

before(async () => {
  if (!existsSync(CHROMIUM)) throw new Error('install chromium: apt-get install chromium');
  gateway = await startGateway(CONFIG);
  const bundle = readFileSync(join(JS_ROOT, 'dist', 'telegraphy.min.js'));
  server = createServer((request, response) => {
    if (request.url === '/telegraphy.min.js') {
      response.writeHead(200, { 'Content-Type': 'text/javascript' }).end(bundle);
    } else {
      response.writeHead(200, { 'Content-Type': 'text/html' }).end(page(gateway.url));
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});

after(async () => {
  await browser?.close();
  server?.close();
  await gateway?.stop();
});

test('a plain page with the script tag shows each event as it is published', async () => {
  const tab = await browser.newPage();
  const problems = [];
  tab.on('pageerror', (e) => problems.push(e.message));
  await tab.goto(`http://127.0.0.1:${server.address().port}/`);
  await tab.waitForSelector('body[data-ready="yes"]', { state: 'attached', timeout: 10000 });
  await publish(
    gateway,
    envelope('public.Model', 'create', { title: 'first' }),
    envelope('public.Model', 'update', { title: 'renamed' }),
  );
  await tab.waitForFunction(() => document.querySelectorAll('#events li').length === 2, null, {
    timeout: 5000,
  });
  const items = await tab.$$eval('#events li', (lis) => lis.map((li) => li.textContent));
  assert.deepEqual(items, ['create: first', 'update: renamed']);
  const cookie = await tab.evaluate(() => document.cookie);
  assert.match(cookie, /telegraphy_client=[A-Za-z0-9_-]{32,}/, 'the client id is kept in the cookie');
  assert.equal(await tab.evaluate(() => typeof window.Telegraphy.unregister), 'function');
  assert.deepEqual(problems, []);
});
