// vitest globalSetup: tests that start server processes run the compiled server (dist/), as
// `npm start` does; compile it once before any test file, and only when a source changed.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function compileServer(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const result = spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('the server did not compile (`npm run build` says why)');
}
