// The committed dist/ is what the sources build to, and the script-tag bundle stays small.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { buildAll } from '../build.js';
import { JS_ROOT } from './support.js';

const DIST = join(JS_ROOT, 'dist');
const LIMIT = 15 * 1024;

function files(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

test(`the script-tag bundle is under ${LIMIT} bytes gzipped`, () => {
  const bundle = readFileSync(join(DIST, 'telegraphy.min.js'));
  const size = gzipSync(bundle, { level: 9 }).length;
  console.log(`dist/telegraphy.min.js: ${bundle.length} bytes, ${size} bytes gzipped`);
  assert.ok(size < LIMIT, `${size} bytes gzipped, over the ${LIMIT} byte budget`);
});

test('the committed dist/ is current: rebuilding changes no byte', async () => {
  const out = mkdtempSync(join(tmpdir(), 'telegraphy-dist-'));
  try {
    await buildAll(out);
    assert.deepEqual(files(out), files(DIST), 'dist/ holds other files than a build makes');
    for (const name of files(out)) {
      const stale = !readFileSync(join(out, name)).equals(readFileSync(join(DIST, name)));
      assert.ok(!stale, `dist/${name} is out of date: run \`npm run build\` in js/`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
