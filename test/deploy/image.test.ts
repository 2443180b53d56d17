// The Dockerfile's runtime stage, run without Docker (no image can be built here): its CMD on the
// compiled server with its ENV, its HEALTHCHECK command against that process, and what the stage
// relies on: dist/ needs only the production dependencies, and the process runs as a user.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/redis.ts';
import { ROOT, startServerProcess, tempDir } from '../support/server.ts';

/** The last stage of the Dockerfile: its ENV, USER, CMD and HEALTHCHECK command. */
function runtimeStage() {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, ' ');
  const lines = text.split('\n').map((l) => l.trim());
  const stage = lines.slice(lines.findLastIndex((l) => l.startsWith('FROM ')));
  const instruction = (name: string) => stage.filter((l) => l.startsWith(`${name} `)).map((l) => l.slice(name.length + 1));
  const env = Object.fromEntries(instruction('ENV').map((e) => e.split('=') as [string, string]));
  const exec = (form: string) => JSON.parse(form.slice(form.indexOf('['))) as string[];
  return { env, user: instruction('USER').at(-1), cmd: exec(instruction('CMD').at(-1)!), healthcheck: exec(instruction('HEALTHCHECK').at(-1)!.split(' CMD ')[1]!) };
}

// What tsc writes: `import … from 'x'` / `export … from 'x'` at a line's start, `import 'x'`, `import('x')`.
const IMPORT = /^\s*(?:import|export)\s[^'"]*?\sfrom\s*['"]([^'"]+)['"]/gm;
const SIDE_EFFECT_IMPORT = /^\s*import\s*['"]([^'"]+)['"]/gm;
const DYNAMIC_IMPORT = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every package a compiled file imports (node: built-ins left out). */
function importedPackages(dir: string, found = new Set<string>()): Set<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) importedPackages(path, found);
    else if (entry.name.endsWith('.js')) {
      const code = readFileSync(path, 'utf8');
      const specifiers = [...code.matchAll(IMPORT), ...code.matchAll(SIDE_EFFECT_IMPORT), ...code.matchAll(DYNAMIC_IMPORT)].map((m) => m[1]!);
      for (const specifier of specifiers) {
        if (specifier.startsWith('.') || specifier.startsWith('node:') || builtinModules.includes(specifier)) continue;
        const parts = specifier.split('/');
        found.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
      }
    }
  }
  return found;
}

const temp = tempDir();
afterAll(() => temp.remove());

describe('the Dockerfile', () => {
  const stage = runtimeStage();

  it('runs the compiled server with its CMD and ENV, and its HEALTHCHECK passes while it runs and fails once it is gone', async () => {
    expect(stage.cmd[0]).toBe('node');
    expect(stage.env.NODE_ENV).toBe('production');
    const port = String(await freePort());
    // No drain delay (SHUTDOWN_DELAY_MS: 5 s in production): nothing balances this one process.
    const env = { ...stage.env, PORT: port, SQLITE_PATH: `${temp.dir}/chat.db`, SHUTDOWN_DELAY_MS: '0' };
    const server = await startServerProcess(env, { cwd: ROOT, args: stage.cmd.slice(1) });
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);

    expect(stage.healthcheck[0]).toBe('node');
    const check = () => spawnSync(process.execPath, stage.healthcheck.slice(1), { env: { ...process.env, PORT: port }, timeout: 10_000 }).status;
    expect(check()).toBe(0);
    expect(await server.stop()).toBe(0);
    expect(check()).toBe(1);
  });

  it('needs only the production dependencies at run time, and runs as a user rather than root', () => {
    const { dependencies } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const imported = [...importedPackages(join(ROOT, 'dist'))];
    expect(imported.length).toBeGreaterThan(5);
    expect(imported.filter((name) => !(name in dependencies))).toEqual([]);
    expect(stage.user).toBeDefined();
    expect(['root', '0']).not.toContain(stage.user);
  });
});
