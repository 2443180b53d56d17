// deploy/compose.yaml as Compose reads it (`docker compose config`, or docker-compose's, when one is
// installed), and what it must agree on with deploy/haproxy.cfg. It is never started here: no image
// can be pulled on this machine.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../support/server.ts';

const COMPOSE_FILE = join(ROOT, 'deploy/compose.yaml');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }> | string[];
}

/** `docker compose` (the plugin) or `docker-compose`, whichever answers; null when neither is installed. */
function composeCommand(): string[] | null {
  for (const command of [['docker', 'compose'], ['docker-compose']]) {
    if (spawnSync(command[0]!, [...command.slice(1), 'version'], { encoding: 'utf8' }).status === 0) return command;
  }
  return null;
}

const compose = composeCommand();
if (!compose) console.warn('test/deploy/compose.test.ts: Compose is not installed, so `compose config` was skipped (the file is still read as YAML)');

describe('deploy/compose.yaml', () => {
  const file = parse(readFileSync(COMPOSE_FILE, 'utf8')) as { services: Record<string, Service> };
  const { services } = file;
  const haproxyConfig = readFileSync(join(ROOT, 'deploy/haproxy.cfg'), 'utf8');

  it.skipIf(!compose)('is a valid Compose file, and refuses to start without AUTH_JWT_SECRET', () => {
    const [command, ...args] = compose!;
    const config = (env: Record<string, string>) =>
      spawnSync(command!, [...args, '-f', COMPOSE_FILE, 'config'], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
    const valid = config({ AUTH_JWT_SECRET: 'a-secret-of-the-deployment' });
    expect(valid.status, valid.stderr).toBe(0);
    const resolved = parse(valid.stdout) as { services: Record<string, Service> };
    expect(resolved.services['chat-1']!.environment!.AUTH_JWT_SECRET).toBe('a-secret-of-the-deployment');
    const { AUTH_JWT_SECRET: _unset, ...withoutSecret } = process.env;
    const refused = spawnSync(command!, [...args, '-f', COMPOSE_FILE, 'config'], { encoding: 'utf8', env: withoutSecret as Record<string, string>, timeout: 30_000 });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('AUTH_JWT_SECRET');
  });

  it('runs three chat processes from the Dockerfile on MongoDB and Redis, where HAProxy looks for them', () => {
    expect(Object.keys(services).sort()).toEqual(['chat-1', 'chat-2', 'chat-3', 'haproxy', 'mongo', 'redis']);
    for (const name of ['chat-1', 'chat-2', 'chat-3']) {
      const chat = services[name]!;
      expect(chat.build).toMatchObject({ context: '..', dockerfile: 'Dockerfile' });
      expect(chat.environment).toMatchObject({ NODE_ENV: 'production', REDIS_URL: 'redis://redis:6379' });
      expect(chat.environment!.MONGODB_URL).toMatch(/^mongodb:\/\/mongo:27017\/chat\?replicaSet=rs0$/);
      expect(chat.environment!.AUTH_JWT_SECRET).toMatch(/^\$\{AUTH_JWT_SECRET:\?/);
      // HAProxy's default address for this process is the service's name and its PORT.
      expect(haproxyConfig).toContain(`"\${CHAT_SERVER_${name.slice(-1)}-${name}:${chat.environment!.PORT}}"`);
    }
    expect(services.haproxy!.volumes).toContain('./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro');
    const published = services.haproxy!.ports!.find((p) => !p.startsWith('127.0.0.1'))!;
    expect(haproxyConfig).toContain(`bind "\${CHAT_LB_BIND-:${published.split(':').at(-1)}}"`);
  });

  it('initiates MongoDB as a one-node replica set on first start, and starts the chat processes once it has a primary', () => {
    const mongo = services.mongo!;
    expect(mongo.command).toEqual(expect.arrayContaining(['--replSet', 'rs0']));
    const check = mongo.healthcheck!.test.join(' ');
    expect(check).toContain("rs.initiate({ _id: 'rs0', members: [{ _id: 0, host: 'mongo:27017' }] })");
    expect(check).toContain('isWritablePrimary');
    expect(services['chat-1']!.depends_on).toMatchObject({ mongo: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
  });
});
