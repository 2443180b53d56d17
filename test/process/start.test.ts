// `npm start` on a machine that has only the sources: it compiles the server to dist/ first, runs
// the compiled JavaScript, and compiles again only when a source changed.
import { cpSync, existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, startServerProcess, tempDir } from '../support/server.ts';

const clone = tempDir();
afterAll(() => clone.remove());

// Compiling the whole server can take minutes on a busy 2-core machine.
const START = { cwd: clone.dir, args: ['scripts/start.mjs'], readyWithinMs: 240_000 };
// No drain on SIGTERM (5 s in production): no load balancer is in front.
const env = { SQLITE_PATH: ':memory:', NODE_ENV: 'production', SHUTDOWN_DELAY_MS: '0' };

describe('npm start', () => {
  it('compiles a fresh checkout to dist/, then runs the compiled server; it compiles again only after a change', { timeout: 600_000 }, async () => {
    for (const path of ['src', 'resolvers', 'loaders', 'scripts', 'package.json', 'tsconfig.json', 'tsconfig.build.json']) {
      cpSync(join(ROOT, path), join(clone.dir, path), { recursive: true });
    }
    symlinkSync(join(ROOT, 'node_modules'), join(clone.dir, 'node_modules'));

    const first = await startServerProcess(env, START);
    expect(first.output()).toContain('compiling the server to dist/');
    expect(existsSync(join(clone.dir, 'dist/src/main.js'))).toBe(true);
    expect(await first.stop()).toBe(0);

    const second = await startServerProcess(env, START);
    expect(second.output()).not.toContain('compiling');
    expect(await second.stop()).toBe(0);

    const main = join(clone.dir, 'src/main.ts');
    writeFileSync(main, readFileSync(main, 'utf8').replace('chat server listening on', 'chat server (changed) listening on'));
    const third = await startServerProcess(env, START);
    expect(third.output()).toContain('compiling the server to dist/');
    expect(third.output()).toContain('chat server (changed) listening on');
    expect(await third.stop()).toBe(0);
  });
});
