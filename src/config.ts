// The only reader of process.env: one parsed, typed Config. Bad values fail fast at start-up.

/** The kinds of write counted per user, each with an allowance of its own. */
export type WriteKind = 'send' | 'organization' | 'channel' | 'invitation' | 'membership' | 'marker';

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
  /** Subscriptions one WebSocket connection may hold at once. */
  subscriptionsPerConnection: number;
  /** Deepest selection set and most aliases a document may hold. */
  queryDepthMax: number;
  aliasesMax: number;
  /** How long a WebSocket may stay open without connection_init. */
  connectionInitTimeoutMs: number;
  /** Bytes a WebSocket may have waiting to be sent before it is closed as too slow (1013). */
  socketBacklogMaxBytes: number;
}

export interface Config {
  port: number;
  host: string;
  mongodbUrl: string | undefined;
  sqlitePath: string;
  redisUrl: string | undefined;
  jwtSecret: string;
  /** True when the secret is the built-in development one (a warning is logged). */
  jwtSecretIsDevelopment: boolean;
  presenceGraceMs: number;
  /** Redis presence: how long a device entry lives unless its process refreshes it (every third of it). */
  presenceTtlMs: number;
  /** Redis presence: how often a process tries to sweep expired devices and due offlines. */
  presenceSweepMs: number;
  /** How long a channel feed waits for a missing seq before reading it from the store. */
  feedGapFillMs: number;
  /** graphql-ws keep-alive ping interval; dead sockets are found within two of these. */
  keepAliveMs: number;
  logLevel: string;
  production: boolean;
  limits: Limits;
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

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

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
    sqlitePath: env.SQLITE_PATH || 'data/chat.db',
    redisUrl: optionalUrl(env, 'REDIS_URL', ['redis:', 'rediss:']),
    jwtSecret: secret ?? DEVELOPMENT_JWT_SECRET,
    jwtSecretIsDevelopment: secret === undefined,
    presenceGraceMs: integer(env, 'PRESENCE_GRACE_MS', 10_000, 0, 3_600_000),
    presenceTtlMs: integer(env, 'PRESENCE_TTL_MS', 30_000, 300, 3_600_000),
    presenceSweepMs: integer(env, 'PRESENCE_SWEEP_MS', 2_000, 50, 600_000),
    feedGapFillMs: integer(env, 'FEED_GAP_FILL_MS', 100, 1, 60_000),
    keepAliveMs: integer(env, 'WS_KEEPALIVE_MS', 12_000, 100, 600_000),
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
      },
      subscriptionsPerConnection: integer(env, 'SUBSCRIPTIONS_PER_CONNECTION', 100, 1, 100_000),
      queryDepthMax: 12,
      aliasesMax: 50,
      connectionInitTimeoutMs: 10_000,
      socketBacklogMaxBytes: integer(env, 'WS_BACKLOG_MAX_BYTES', 1024 * 1024, 16 * 1024, 1024 * 1024 * 1024),
    },
  };
}
