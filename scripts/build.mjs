// npm run build: compiles the server (src/, resolvers/, loaders/) to dist/ with tsc -p tsconfig.build.json.
// With --if-stale it compiles only when dist/ is missing or older than a source (what npm start and
// the tests' setup do). Plain JavaScript: it must run where nothing compiles TypeScript yet.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
/** What the build reads; a folder's own mtime changes when a file in it is added, removed or renamed. */
const SOURCES = ['src', 'resolvers', 'loaders', 'tsconfig.json', 'tsconfig.build.json'];
/** Written after each successful build, dated when that build started. */
const STAMP = join(root, 'dist', '.built');

function newestChange(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestChange(join(path, entry)));
  return newest;
}

/** True when dist/ was never built, or a source changed since the last build started. */
export function isStale() {
  const built = statSync(STAMP, { throwIfNoEntry: false });
  if (!built || !existsSync(join(root, 'dist', 'src', 'main.js'))) return true;
  return SOURCES.some((source) => newestChange(join(root, source)) > built.mtimeMs);
}

/** Compiles to dist/ (incrementally); throws with a one-line reason when it cannot. */
export function build() {
  let tsc;
  try {
    tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    throw new Error('dist/ is missing or older than the sources, and TypeScript (a dev dependency) is not installed to compile it: run `npm ci`, then `npm run build`');
  }
  const started = new Date();
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`the TypeScript build failed (tsc exit ${result.status ?? result.signal}); see above`);
  writeFileSync(STAMP, `${started.toISOString()}\n`);
  utimesSync(STAMP, started, started);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    if (!process.argv.includes('--if-stale') || isStale()) build();
  } catch (error) {
    console.error(`build: ${error.message}`);
    process.exit(1);
  }
}
