// Builds dist/: the ES module, the minified script-tag bundle and the type declarations.
// `node build.js [outdir]` (the freshness test builds into a temporary directory).

import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const HERE = dirname(fileURLToPath(import.meta.url));
const VERSION = JSON.parse(
  (await import('node:fs')).readFileSync(join(HERE, 'package.json'), 'utf8'),
).version;
const BANNER = `/*! telegraphy-js ${VERSION} | MIT */`;

export async function buildAll(outdir = join(HERE, 'dist')) {
  outdir = resolve(outdir);
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const common = { absWorkingDir: HERE, bundle: true, target: 'es2020', banner: { js: BANNER }, logLevel: 'warning' };
  await build({ ...common, entryPoints: ['src/index.ts'], format: 'esm', outfile: join(outdir, 'telegraphy.mjs') });
  await build({
    ...common,
    entryPoints: ['src/browser.ts'],
    format: 'iife',
    minify: true,
    outfile: join(outdir, 'telegraphy.min.js'),
  });
  await build({
    ...common,
    entryPoints: ['src/htmx.ts'],
    format: 'iife',
    minify: true,
    outfile: join(outdir, 'telegraphy-htmx.js'),
  });
  const tsc = join(HERE, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', join(HERE, 'tsconfig.build.json'), '--noEmit', 'false', '--declaration',
    '--emitDeclarationOnly', '--stripInternal', '--outDir', join(outdir, 'types')], { stdio: 'inherit' });
  writeFileSync(
    join(outdir, 'telegraphy.d.ts'),
    "export * from './types/index.js';\nexport { default } from './types/index.js';\n",
  );
  return outdir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(`built ${await buildAll(process.argv[2])}`);
}
