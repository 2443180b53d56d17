// Our GraphQL server, started as `node --import tsx src/main.ts` with a fresh SQLite file per
// deployment. Organization, channels, users and memberships are written into that file through
// the Store port before the servers start (seed/), so setting up 50,000 users costs seconds and
// needs no mutation beyond what a scenario measures.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MessageAddedDocument, SendMessageDocument, ViewerEventsDocument } from '../../operations/generated/graphql.ts';
import { toGlobalId } from '../../src/domain/ids.ts';
import { GraphQLClient, documentText, mintToken } from '../lib/graphql.ts';
import { progress } from '../lib/log.ts';
import { repoRoot, startReady, stop, type ServerProcess } from '../lib/proc.ts';
import { BENCH_ADMIN, benchUser, type BenchUser, type SeedPlan, type SeedResults } from '../seed/plans.ts';
import { seed } from '../seed/seed.ts';
import type { Deployment, System, Workload } from './types.ts';

/** Users that hold the subscriber connections in the best case (connection i belongs to user i % 100). */
const BEST_CASE_USERS = 100;

export interface OursDeployment<P extends SeedPlan = SeedPlan> {
  servers: ServerProcess[];
  urls: string[];
  /** GraphQL over HTTP to the first server process. */
  api: GraphQLClient;
  /** A token for BENCH_ADMIN, who created the seeded organizations. */
  adminToken: string;
  token(user: BenchUser): Promise<string>;
  seeded: SeedResults[P['kind']];
  stop(): Promise<void>;
}

/**
 * Seeds a fresh SQLite file with `plan`, then starts `processes` server processes on it, on the
 * Redis at redisUrl (or the one `redisEnv` names: REDIS_CLUSTER_NODES of a cluster).
 */
export async function startOurs<P extends SeedPlan>(processes: number, redisUrl: string, plan: P, redisEnv?: Record<string, string>): Promise<OursDeployment<P>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'chat-bench-'));
  const secret = randomBytes(24).toString('hex');
  const env = {
    SQLITE_PATH: path.join(dir, 'chat.db'),
    ...(redisEnv ?? { REDIS_URL: redisUrl }),
    AUTH_JWT_SECRET: secret,
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    // The default write limits (100 sends per 10 s, 100 channels and 10 organizations an hour per
    // user) would throttle the publisher, the senders and app-open's 1,000 channels.
    SEND_RATE_LIMIT: '1000000',
    CHANNEL_RATE_LIMIT: '1000000',
    ORGANIZATION_RATE_LIMIT: '1000000',
    // The best case's subscribers are a few users with hundreds of connections each.
    WS_SOCKETS_PER_USER: '1000000',
  };
  let servers: ServerProcess[];
  let seeded: SeedResults[P['kind']];
  try {
    seeded = await seed(env.SQLITE_PATH, plan);
    const labelled = Array.from({ length: processes }, (_, i) => ({ label: `ours#${i}`, script: 'src/main.ts', env }));
    servers = await startReady(labelled, '/ready', 90_000); // stops what it started when one fails
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const token = (user: BenchUser) => mintToken(secret, user.id, user.name);
  return {
    servers,
    urls: servers.map((server) => `ws://127.0.0.1:${server.port}`),
    api: new GraphQLClient(`http://127.0.0.1:${servers[0]!.port}/graphql`),
    adminToken: await token(BENCH_ADMIN),
    token,
    seeded,
    async stop() {
      await Promise.all(servers.map((server) => stop(server.child)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Sends one message as `token` to a channel (global id), through the client app's SendMessage document. */
export async function sendMessage(api: GraphQLClient, token: string, input: { channelId: string; text: string; mentionIds?: string[]; clientMessageId?: string }) {
  return (await api.request(token, SendMessageDocument, { input })).sendMessage;
}

const SUBSCRIPTIONS: Record<Workload, (channelId: string) => { query: string; variables: Record<string, unknown> }> = {
  // The best case's subscribers are instances of one app: one document, and one execution per message.
  best: (channelId) => ({ query: 'subscription($c: ID!) { messageAdded(channelId: $c) { seq text sentAt } }', variables: { c: channelId } }),
  messageAdded: (channelId) => ({ query: documentText(MessageAddedDocument), variables: { channelId } }),
  viewerEvents: () => ({ query: documentText(ViewerEventsDocument), variables: {} }),
};

const LABELS: Record<Workload, string> = { best: 'ours', messageAdded: 'ours messageAdded', viewerEvents: 'ours viewerEvents' };

/** Ours as a fan-out system: #general of one organization with one user per connection (or 100 in the best case). */
function oursFanout(workload: Workload): System {
  return {
    name: 'ours',
    label: LABELS[workload],
    workload,
    protocol: 'graphql-ws',
    unavailable: () =>
      existsSync(path.join(repoRoot, 'src/main.ts')) && existsSync(path.join(repoRoot, 'src/auth/tokens.ts'))
        ? undefined
        : 'src/main.ts does not exist yet',
    async start({ processes, redisUrl, redisEnv, subscribers }): Promise<Deployment> {
      const users = workload === 'best' ? Math.min(BEST_CASE_USERS, subscribers) : subscribers;
      const plan = { kind: 'organization', name: 'bench', creator: BENCH_ADMIN, users } as const;
      const ours = await startOurs(processes, redisUrl, plan, redisEnv);
      const channelId = toGlobalId('Channel', ours.seeded.generalChannelId);
      return {
        servers: ours.servers,
        urls: ours.urls,
        async prepare() {
          const tokens: string[] = [];
          for (let i = 0; i < users; i++) tokens.push(await ours.token(benchUser(i)));
          progress(`${LABELS[workload]}: ${users} users in #general, ${Math.ceil(subscribers / users)} connection(s) each`);
          return { channel: channelId, tokens, subscription: SUBSCRIPTIONS[workload](channelId) };
        },
        async publish(text, mentions = []) {
          const mentionIds = mentions.map((i) => toGlobalId('User', benchUser(i).id));
          await sendMessage(ours.api, ours.adminToken, { channelId, text, ...(mentionIds.length > 0 ? { mentionIds } : {}) });
        },
        stop: () => ours.stop(),
      };
    },
  };
}

export const ours = oursFanout('best');
export const oursMessageAdded = oursFanout('messageAdded');
export const oursViewerEvents = oursFanout('viewerEvents');
