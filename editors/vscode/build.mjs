// Bundles the extension (dist/extension.js) and, with --tests, the unit tests (out/test/*.test.js).
//   node build.mjs               development bundle with a source map
//   node build.mjs --production  minified, what `vsce package` ships (vscode:prepublish)
//   node build.mjs --tests       the extension and the tests
//   node build.mjs --tests-only  the tests only (to test the bundle `vsce package` just built)
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';

const production = process.argv.includes('--production');
const testsOnly = process.argv.includes('--tests-only');
const tests = testsOnly || process.argv.includes('--tests');

if (production) rmSync('dist/extension.js.map', { force: true }); // no stale map beside a minified bundle

if (!testsOnly) await build({
  entryPoints: ['src/extension.ts'],
  bundle: true,
  outfile: 'dist/extension.js',
  external: ['vscode'],
  format: 'cjs',
  platform: 'node',
  target: 'node18',
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  logLevel: 'warning',
});

if (tests) {
  rmSync('out', { recursive: true, force: true });
  const entryPoints = readdirSync('test')
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => `test/${f}`);
  await build({
    entryPoints,
    bundle: true,
    outdir: 'out/test',
    external: ['vscode', 'vscode-textmate', 'vscode-oniguruma'],
    format: 'cjs',
    platform: 'node',
    target: 'node18',
    sourcemap: 'inline',
    logLevel: 'warning',
  });
}
