// The only reader of process.env: one parsed, typed Config. Bad values fail fast at start-up.

/** The kinds of write counted per user, each with an allowance of its own. */
export type WriteKind = 'send' | 'organization' | 'channel' | 'invitation' | 'membership' | 'marker' | 'push';

/** How many writes of one kind a user may make per window. */
export interface RateLimit {
  points: number;
  windowMs: number;
}

export interface Limits {
  /** Longest message text, in characters. */
  messageMaxLength: number;
  /** Most users one message may mention. */
  mentionsMax: number;
  /** Default and largest page of any connection. */
  pageDefault: number;
  pageMax: number;
  /** Largest page of a viewer's channel list: a sidebar shows every channel at app open. */
  channelPageMax: number;
  /** Most user ids in presence(userIds) and presenceChanged(userIds). */
  presenceIdsMax: number;
  /** Writes one user may make per window, by kind, before RATE_LIMITED (services/rate-limit.ts). */
  rates: Record<WriteKind, RateLimit>;
  /** Most users a channel may be created with (createChannel's memberIds). */
  channelInitialMembersMax: number;
  /** Most representations one _entities call may resolve. */
  entitiesMax: number;
  /** Subscriptions one WebSocket connection may hold at once. */
  subscriptionsPerConnection: number;
  /** Largest HTTP request body read; a longer one is refused with 413 before it is parsed. */
  httpBodyMaxBytes: number;
  /** Most lexical tokens a document may hold: parsing stops at the next one. */
  queryTokensMax: number;
  /** Deepest selection a document may hold (fields nested in fields, through fragments). */
  queryDepthMax: number;
  /** The same for a document that only reads the schema: the standard introspection query nests 15 deep. */
  introspectionDepthMax: number;
  /** Most aliases and directives a document may hold, fragments expanded. */
  aliasesMax: number;
  directivesMax: number;
  /** Most fields one operation may run, each list field counted once per item its page may hold. */
  queryCostMax: number;
  /** How long a WebSocket may stay open without connection_init. */
  connectionInitTimeoutMs: number;
  /** Largest message a WebSocket client may send; a longer one closes the socket (1009). */
  socketMessageMaxBytes: number;
  /** Bytes a WebSocket may have waiting to be sent before it is closed as too slow (1013). */
  socketBacklogMaxBytes: number;
  /** WebSockets one user may hold open on one process; the next is closed with 4429. */
  socketsPerUser: number;
  /** Push registrations one user may hold (one per device). */
  pushRegistrationsPerUser: number;
}

/** The server's VAPID identity for Web Push (RFC 8292). */
export interface VapidConfig {
  /** base64url of the uncompressed P-256 public key (65 bytes). */
  publicKey: string;
  /** base64url of the P-256 private key (32 bytes). */
  privateKey: string;
  /** mailto: or https: contact of the operator, sent to push services. */
  subject: string;
}

/** Notifications for devices that are away (src/push/). */
export interface PushConfig {
  /** null when VAPID_* are unset: Web Push registrations are refused. */
  vapid: VapidConfig | null;
  /** How long a message may stay unread by an offline member before their devices are told. */
  delayMs: number;
  /** minimal: no message text (nor names) leaves the server. */
  content: 'full' | 'minimal';
  /** Pusher URLs may be plain http (a gateway on the same host or network). */
  allowHttpGateways: boolean;
  /** How often each process looks for due notifications. */
  pollMs: number;
  /** How long a process holds a claimed notification before another may take it over. */
  leaseMs: number;
  /** The first retry's delay; each further one doubles it. */
  retryBaseMs: number;
  /** How often the message log is scanned for what no process has decided yet (after a crash). */
  scanMs: number;
}

export interface MongoSettings {
  /** The bound of every wait on MongoDB: server selection, the majority's confirmation, a transaction with its retries. */
  timeoutMs: number;
  /** How long start-up waits for an index build before stopping with "still being built". */
  indexBuildWaitMs: number;
  /** The sharded layout; undefined: when the server is a mongos (hello answers msg: 'isdbgrid'). */
  sharded: boolean | undefined;
}

export interface Config {
  port: number;
  host: string;
  mongodbUrl: string | undefined;
  mongodb: MongoSettings;
  sqlitePath: string;
  redisUrl: string | undefined;
  /** Seed nodes of a Redis Cluster (REDIS_CLUSTER_NODES); undefined: single-node Redis or none. */
  redisClusterNodes: RedisNode[] | undefined;
  jwtSecret: string;
  /** True when the secret is the built-in development one (a warning is logged). */
  jwtSecretIsDevelopment: boolean;
  /** Whether a token without `exp` is accepted (it would never expire, on HTTP or on a socket). */
  allowTokensWithoutExpiry: boolean;
  presenceGraceMs: number;
  /** Redis presence: how long a device entry lives unless its process refreshes it (every third of it). */
  presenceTtlMs: number;
  /** Redis presence: how often a process tries to sweep expired devices and due offlines. */
  presenceSweepMs: number;
  /** How long a channel feed waits for a missing seq before reading it from the store. */
  feedGapFillMs: number;
  /** graphql-ws keep-alive ping interval; dead sockets are found within two of these. */
  keepAliveMs: number;
  /** SIGTERM: how long /ready answers 503 before connections close, and how long requests in flight may then take. */
  shutdown: { delayMs: number; graceMs: number };
  logLevel: string;
  production: boolean;
  limits: Limits;
  push: PushConfig;
}

export const DEVELOPMENT_JWT_SECRET = 'development-secret-do-not-use-in-production';

type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function optionalUrl(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a URL: "${raw}"`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(`${name} must start with ${protocols.join(' or ')}, got "${url.protocol}"`);
  }
  return raw;
}

export interface RedisNode {
  host: string;
  port: number;
}

/** REDIS_CLUSTER_NODES: `host:port,host:port,…`, the seeds the cluster's map is first read from. */
function clusterNodes(env: Env): RedisNode[] | undefined {
  const raw = env.REDIS_CLUSTER_NODES;
  if (raw === undefined || raw.trim() === '') return undefined;
  if (env.REDIS_URL) throw new ConfigError('set either REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both');
  return raw.split(',').map((entry) => {
    const text = entry.trim();
    const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:\[\]]+):(\d{1,5})$/.exec(text);
    const port = match ? Number(match[2]) : NaN;
    if (!match || port < 1 || port > 65535) {
      throw new ConfigError(`REDIS_CLUSTER_NODES must be host:port pairs separated by commas, got "${text}" in "${raw}"`);
    }
    return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
  });
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

function oneOf<T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!values.includes(raw as T)) throw new ConfigError(`${name} must be one of ${values.join(', ')}, got "${raw}"`);
  return raw as T;
}

/** A base64url key of exactly `bytes` bytes once decoded. */
function base64urlKey(env: Env, name: string, bytes: number): string {
  const raw = env[name] ?? '';
  if (!/^[A-Za-z0-9_-]+$/.test(raw) || Buffer.from(raw, 'base64url').length !== bytes) {
    throw new ConfigError(`${name} must be base64url of ${bytes} bytes (web-push generate-vapid-keys makes a pair)`);
  }
  return raw;
}

/** VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT: all three or none. */
function vapid(env: Env): VapidConfig | null {
  const names = ['VAPID_PUBLIC_KEY', 'VAPID_PRIVATE_KEY', 'VAPID_SUBJECT'];
  const set = names.filter((name) => env[name]);
  if (set.length === 0) return null;
  if (set.length < names.length) throw new ConfigError(`${names.join(', ')} must be set together (missing: ${names.filter((n) => !env[n]).join(', ')})`);
  const subject = env.VAPID_SUBJECT!;
  if (!/^(mailto:.+|https:\/\/.+)$/.test(subject) || subject.length > 256) {
    throw new ConfigError(`VAPID_SUBJECT must be a mailto: or https: URL of the operator, got "${subject}"`);
  }
  const publicKey = base64urlKey(env, 'VAPID_PUBLIC_KEY', 65);
  if (Buffer.from(publicKey, 'base64url')[0] !== 0x04) throw new ConfigError('VAPID_PUBLIC_KEY must be an uncompressed P-256 point (starting with 0x04)');
  return { publicKey, privateKey: base64urlKey(env, 'VAPID_PRIVATE_KEY', 32), subject };
}

function pushConfig(env: Env): PushConfig {
  return {
    vapid: vapid(env),
    delayMs: integer(env, 'PUSH_DELAY_MS', 30_000, 0, 86_400_000),
    content: oneOf(env, 'PUSH_CONTENT', ['full', 'minimal'] as const, 'full'),
    allowHttpGateways: oneOf(env, 'PUSH_ALLOW_HTTP_GATEWAYS', ['true', 'false'] as const, 'false') === 'true',
    pollMs: integer(env, 'PUSH_POLL_MS', 1000, 10, 600_000),
    leaseMs: integer(env, 'PUSH_LEASE_MS', 60_000, 1000, 3_600_000),
    retryBaseMs: integer(env, 'PUSH_RETRY_BASE_MS', 2000, 10, 3_600_000),
    scanMs: integer(env, 'PUSH_SCAN_MS', 10_000, 100, 3_600_000),
  };
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Parses the environment into a Config, throwing ConfigError on the first bad value. */
export function loadConfig(env: Env = process.env): Config {
  const production = env.NODE_ENV === 'production';
  const secret = env.AUTH_JWT_SECRET;
  if (production && !secret) {
    throw new ConfigError('AUTH_JWT_SECRET is required when NODE_ENV=production');
  }
  if (secret !== undefined && secret.length < 16) {
    throw new ConfigError('AUTH_JWT_SECRET must be at least 16 characters');
  }
  const logLevel = env.LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  return {
    port: integer(env, 'PORT', 4000, 0, 65535),
    host: env.HOST ?? '0.0.0.0',
    mongodbUrl: optionalUrl(env, 'MONGODB_URL', ['mongodb:', 'mongodb+srv:']),
    mongodb: {
      timeoutMs: integer(env, 'MONGODB_TIMEOUT_MS', 5000, 100, 600_000),
      indexBuildWaitMs: integer(env, 'MONGODB_INDEX_BUILD_WAIT_MS', 60_000, 100, 86_400_000),
      sharded: { true: true, false: false, detect: undefined }[oneOf(env, 'MONGODB_SHARDED', ['true', 'false', 'detect'] as const, 'detect')],
    },
    sqlitePath: env.SQLITE_PATH || 'data/chat.db',
    redisUrl: optionalUrl(env, 'REDIS_URL', ['redis:', 'rediss:']),
    redisClusterNodes: clusterNodes(env),
    jwtSecret: secret ?? DEVELOPMENT_JWT_SECRET,
    jwtSecretIsDevelopment: secret === undefined,
    allowTokensWithoutExpiry: oneOf(env, 'AUTH_ALLOW_TOKENS_WITHOUT_EXP', ['true', 'false'] as const, 'false') === 'true',
    presenceGraceMs: integer(env, 'PRESENCE_GRACE_MS', 10_000, 0, 3_600_000),
    presenceTtlMs: integer(env, 'PRESENCE_TTL_MS', 30_000, 300, 3_600_000),
    presenceSweepMs: integer(env, 'PRESENCE_SWEEP_MS', 2_000, 50, 600_000),
    feedGapFillMs: integer(env, 'FEED_GAP_FILL_MS', 100, 1, 60_000),
    keepAliveMs: integer(env, 'WS_KEEPALIVE_MS', 12_000, 100, 600_000),
    // Long enough for a load balancer's health check to see /ready fail (HAProxy in deploy/: 2 s x 2);
    // a developer's Ctrl-C stops at once.
    shutdown: {
      delayMs: integer(env, 'SHUTDOWN_DELAY_MS', production ? 5000 : 0, 0, 600_000),
      graceMs: integer(env, 'SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    },
    logLevel,
    production,
    limits: {
      messageMaxLength: integer(env, 'MESSAGE_MAX_LENGTH', 4000, 1, 100_000),
      mentionsMax: integer(env, 'MENTIONS_MAX', 50, 0, 10_000),
      pageDefault: 50,
      pageMax: 100,
      channelPageMax: 1000,
      presenceIdsMax: 500,
      rates: {
        send: { points: integer(env, 'SEND_RATE_LIMIT', 100, 1, 1_000_000), windowMs: 10_000 },
        organization: { points: integer(env, 'ORGANIZATION_RATE_LIMIT', 10, 1, 1_000_000), windowMs: HOUR_MS },
        channel: { points: integer(env, 'CHANNEL_RATE_LIMIT', 100, 1, 1_000_000), windowMs: HOUR_MS },
        invitation: { points: integer(env, 'INVITATION_RATE_LIMIT', 100, 1, 1_000_000), windowMs: HOUR_MS },
        membership: { points: integer(env, 'MEMBERSHIP_RATE_LIMIT', 60, 1, 1_000_000), windowMs: MINUTE_MS },
        marker: { points: integer(env, 'MARKER_RATE_LIMIT', 300, 1, 1_000_000), windowMs: 10_000 },
        push: { points: integer(env, 'PUSH_REGISTRATION_RATE_LIMIT', 60, 1, 1_000_000), windowMs: HOUR_MS },
      },
      channelInitialMembersMax: integer(env, 'CHANNEL_INITIAL_MEMBERS_MAX', 500, 1, 100_000),
      entitiesMax: integer(env, 'ENTITIES_MAX', 500, 1, 100_000),
      subscriptionsPerConnection: integer(env, 'SUBSCRIPTIONS_PER_CONNECTION', 100, 1, 100_000),
      httpBodyMaxBytes: integer(env, 'HTTP_BODY_MAX_BYTES', 1024 * 1024, 1024, 1024 * 1024 * 1024),
      queryTokensMax: integer(env, 'QUERY_TOKENS_MAX', 2000, 100, 1_000_000),
      queryDepthMax: integer(env, 'QUERY_DEPTH_MAX', 12, 2, 1000),
      introspectionDepthMax: integer(env, 'QUERY_INTROSPECTION_DEPTH_MAX', 15, 2, 1000),
      aliasesMax: integer(env, 'QUERY_ALIASES_MAX', 50, 0, 100_000),
      directivesMax: integer(env, 'QUERY_DIRECTIVES_MAX', 20, 0, 100_000),
      queryCostMax: integer(env, 'QUERY_COST_MAX', 25_000, 1, 1_000_000_000),
      connectionInitTimeoutMs: integer(env, 'WS_CONNECTION_INIT_TIMEOUT_MS', 10_000, 100, 600_000),
      socketMessageMaxBytes: integer(env, 'WS_MESSAGE_MAX_BYTES', 256 * 1024, 1024, 100 * 1024 * 1024),
      socketBacklogMaxBytes: integer(env, 'WS_BACKLOG_MAX_BYTES', 1024 * 1024, 16 * 1024, 1024 * 1024 * 1024),
      pushRegistrationsPerUser: 50,
      socketsPerUser: integer(env, 'WS_SOCKETS_PER_USER', 30, 1, 1_000_000),
    },
    push: pushConfig(env),
  };
}
