// Configuration fails fast with a message naming the bad setting (a server process says it in one
// line and exits 1: test/process/startup.test.ts).
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import webpush from 'web-push';

function vapidKeys() {
  const { publicKey, privateKey } = webpush.generateVAPIDKeys();
  return { VAPID_PUBLIC_KEY: publicKey, VAPID_PRIVATE_KEY: privateKey };
}

describe('configuration', () => {
  it('has working defaults for a development machine', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 4000, sqlitePath: 'data/chat.db', mongodbUrl: undefined, redisUrl: undefined, presenceGraceMs: 10_000 });
    expect(config.jwtSecretIsDevelopment).toBe(true);
    expect(config.limits.rates).toEqual({
      send: { points: 100, windowMs: 10_000 },
      organization: { points: 10, windowMs: 3_600_000 },
      channel: { points: 100, windowMs: 3_600_000 },
      invitation: { points: 100, windowMs: 3_600_000 },
      membership: { points: 60, windowMs: 60_000 },
      marker: { points: 300, windowMs: 10_000 },
      push: { points: 60, windowMs: 3_600_000 },
    });
    expect(config.allowTokensWithoutExpiry).toBe(false);
    expect(config.limits).toMatchObject({ httpBodyMaxBytes: 1024 * 1024, queryTokensMax: 2000, queryDepthMax: 12, queryCostMax: 25_000, socketsPerUser: 30 });
  });

  it('drains for 5 s on SIGTERM in production, so a load balancer sees /ready fail first; stops at once on a developer machine', () => {
    expect(loadConfig({}).shutdown).toEqual({ delayMs: 0, graceMs: 10_000 });
    expect(loadConfig({ NODE_ENV: 'production', AUTH_JWT_SECRET: 'a-production-secret-0123' }).shutdown).toEqual({ delayMs: 5000, graceMs: 10_000 });
    expect(loadConfig({ SHUTDOWN_DELAY_MS: '1500', SHUTDOWN_GRACE_MS: '0' }).shutdown).toEqual({ delayMs: 1500, graceMs: 0 });
  });

  it('reads the seeds of a Redis Cluster', () => {
    expect(loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-b:7001,[::1]:7002' }).redisClusterNodes).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-b', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(loadConfig({}).redisClusterNodes).toBeUndefined();
  });

  it('reads every limit from its variable', () => {
    const { limits } = loadConfig({ QUERY_COST_MAX: '1000', QUERY_TOKENS_MAX: '500', QUERY_ALIASES_MAX: '5', ENTITIES_MAX: '10', WS_SOCKETS_PER_USER: '2' });
    expect(limits).toMatchObject({ queryCostMax: 1000, queryTokensMax: 500, aliasesMax: 5, entitiesMax: 10, socketsPerUser: 2 });
  });

  it.each([
    [{ NODE_ENV: 'production' }, 'AUTH_JWT_SECRET is required'],
    [{ AUTH_JWT_SECRET: 'short' }, 'AUTH_JWT_SECRET must be at least 16'],
    [{ PORT: 'eighty' }, 'PORT must be an integer'],
    [{ PORT: '70000' }, 'PORT must be an integer'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL'],
    [{ REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'a:7000' }, 'set either REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both'],
    [{ REDIS_CLUSTER_NODES: 'a:7000,b' }, 'REDIS_CLUSTER_NODES must be host:port pairs separated by commas, got "b" in "a:7000,b"'],
    [{ REDIS_CLUSTER_NODES: 'a:70000' }, 'REDIS_CLUSTER_NODES must be host:port pairs'],
    [{ REDIS_CLUSTER_NODES: 'redis://a:7000' }, 'REDIS_CLUSTER_NODES must be host:port pairs'],
    [{ MONGODB_URL: 'postgres://db' }, 'MONGODB_URL must start with mongodb:'],
    [{ MONGODB_SHARDED: 'yes' }, 'MONGODB_SHARDED must be one of true, false, detect'],
    [{ MONGODB_TIMEOUT_MS: '0' }, 'MONGODB_TIMEOUT_MS must be an integer from 100'],
    [{ PRESENCE_GRACE_MS: '-1' }, 'PRESENCE_GRACE_MS'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of'],
    [{ SHUTDOWN_DELAY_MS: '5s' }, 'SHUTDOWN_DELAY_MS must be an integer'],
    [{ ORGANIZATION_RATE_LIMIT: '0' }, 'ORGANIZATION_RATE_LIMIT must be an integer'],
    [{ MARKER_RATE_LIMIT: 'many' }, 'MARKER_RATE_LIMIT must be an integer'],
    [{ VAPID_PUBLIC_KEY: 'BKey' }, 'VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY, VAPID_SUBJECT must be set together'],
    [{ VAPID_PUBLIC_KEY: 'short', VAPID_PRIVATE_KEY: 'short', VAPID_SUBJECT: 'mailto:ops@example.com' }, 'VAPID_PUBLIC_KEY must be base64url of 65 bytes'],
    [{ ...vapidKeys(), VAPID_SUBJECT: 'ops@example.com' }, 'VAPID_SUBJECT must be a mailto: or https: URL'],
    [{ PUSH_CONTENT: 'everything' }, 'PUSH_CONTENT must be one of full, minimal'],
    [{ PUSH_DELAY_MS: 'soon' }, 'PUSH_DELAY_MS must be an integer'],
    [{ PUSH_ALLOW_HTTP_GATEWAYS: 'yes' }, 'PUSH_ALLOW_HTTP_GATEWAYS must be one of true, false'],
    [{ QUERY_COST_MAX: '0' }, 'QUERY_COST_MAX must be an integer from 1'],
    [{ HTTP_BODY_MAX_BYTES: '1mb' }, 'HTTP_BODY_MAX_BYTES must be an integer'],
    [{ WS_SOCKETS_PER_USER: '0' }, 'WS_SOCKETS_PER_USER must be an integer from 1'],
    [{ AUTH_ALLOW_TOKENS_WITHOUT_EXP: 'yes' }, 'AUTH_ALLOW_TOKENS_WITHOUT_EXP must be one of true, false'],
  ])('refuses %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('tells devices that are away after 30 s, with the message text, and sends Web Push only with a VAPID key', () => {
    expect(loadConfig({}).push).toMatchObject({ vapid: null, delayMs: 30_000, content: 'full', allowHttpGateways: false });
    const keys = vapidKeys();
    expect(loadConfig({ ...keys, VAPID_SUBJECT: 'https://chat.example.com' }).push.vapid).toEqual({
      publicKey: keys.VAPID_PUBLIC_KEY,
      privateKey: keys.VAPID_PRIVATE_KEY,
      subject: 'https://chat.example.com',
    });
  });
});
