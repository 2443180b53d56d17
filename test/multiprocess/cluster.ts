// Several real server processes sharing one Redis (the tests' own, or REDIS_URL; or a Redis
// Cluster) and one SQLite file, and what the multi-process tests do with them as clients would.
import type { DocumentNode } from 'graphql';
import type { Client } from 'graphql-ws';
import {
  type MessageAddedSubscription,
  MessageAddedDocument,
  SendMessageDocument,
  ViewerEventsDocument,
  type ViewerEventsSubscription,
} from '../../operations/generated/graphql.ts';
import { HttpUser, Subscription, wsClient } from '../support/client.ts';
import { metricValue } from '../support/metrics.ts';
import { type TestRedis, startRedis } from '../support/redis.ts';
import { type TestRedisCluster, startRedisCluster } from '../support/redis-cluster.ts';
import { type ServerProcess, startServerProcess, tempDir } from '../support/server.ts';
import { waitUntil } from '../support/wait.ts';
import type { Member } from '../support/world.ts';

export interface Cluster<R extends { stop(): Promise<void> } = TestRedis> {
  redis: R;
  processes: ServerProcess[];
  /** The last lines each process has logged (for a failing test's report). */
  logs(): string;
  /** Starts process `index` again (after it stopped or was killed) on the same port, store and Redis. */
  restart(index: number): Promise<ServerProcess>;
  stop(): Promise<void>;
}

/** Starts Redis and `count` server processes on one SQLite file. */
export async function startCluster(count: number, env: Record<string, string> = {}): Promise<Cluster> {
  const redis = await startRedis();
  return startProcessesOn(redis, { REDIS_URL: redis.url }, count, env);
}

/** Starts a Redis Cluster and `count` server processes on it (REDIS_CLUSTER_NODES) and one SQLite file. */
export async function startClusterOnRedisCluster(count: number, env: Record<string, string> = {}): Promise<Cluster<TestRedisCluster>> {
  const redis = await startRedisCluster();
  return startProcessesOn(redis, { REDIS_CLUSTER_NODES: redis.seeds }, count, env);
}

/**
 * Starts `count` server processes on one SQLite file and the given Redis (its variables in
 * `redisEnv`: REDIS_URL, or REDIS_CLUSTER_NODES); stopping them stops that Redis too.
 */
export async function startProcessesOn<R extends { stop(): Promise<void> }>(
  redis: R,
  redisEnv: Record<string, string>,
  count: number,
  env: Record<string, string> = {},
): Promise<Cluster<R>> {
  const temp = tempDir();
  const shared = { ...redisEnv, SQLITE_PATH: `${temp.dir}/chat.db`, LOG_LEVEL: 'warn', ...env };
  const processes: ServerProcess[] = [];
  try {
    // One after the other: on a busy machine each then gets the CPU it needs to be ready in time.
    for (let i = 0; i < count; i++) processes.push(await startPatiently(shared));
  } catch (error) {
    await Promise.all(processes.map((p) => p.kill()));
    await redis.stop();
    temp.remove();
    throw error;
  }
  return {
    redis,
    processes,
    logs: () => processes.map((p, i) => `--- process ${i} (pid ${p.child.pid}) ---\n${p.output().slice(-4000)}`).join('\n'),
    async restart(index) {
      processes[index] = await startPatiently({ ...shared, PORT: String(processes[index]!.port) });
      return processes[index]!;
    },
    async stop() {
      await Promise.all(processes.map((p) => p.stop()));
      await redis.stop();
      temp.remove();
    },
  };
}

/** Starts a server process, once more if the first did not get ready in time (a loaded machine). */
async function startPatiently(env: Record<string, string>): Promise<ServerProcess> {
  try {
    return await startServerProcess(env);
  } catch (error) {
    if (!/did not become ready/.test((error as Error).message)) throw error;
    return startServerProcess(env);
  }
}

/** The same user, talking to another process (as after the load balancer picked another one). */
export function via(server: ServerProcess, member: Member): Member {
  return Object.assign(new HttpUser(server.url, member.token, member.sub), { id: member.id });
}

/** The process's count of open subscriptions, from /metrics. */
export async function openSubscriptions(server: ServerProcess): Promise<number> {
  return metricValue(server, 'chat_subscriptions');
}

/** Waits until the servers hold exactly these many subscriptions (so a listener is live before sends). */
export async function waitForSubscriptions(expected: [ServerProcess, number][]): Promise<void> {
  for (const [server, count] of expected) {
    await waitUntil(async () => (await openSubscriptions(server)) === count, `${count} open subscriptions on port ${server.port}`);
  }
}

/** /ready as a load balancer sees it. */
export async function readiness(server: ServerProcess): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${server.port}/ready`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export type Received = MessageAddedSubscription['messageAdded'];
export type ViewerEvent = ViewerEventsSubscription['viewerEvents'];

/** What the tests have opened and not closed yet (closed after each test, passed or failed). */
const opened = new Set<() => Promise<void>>();

/** Closes every device the test opened, and waits until the live servers have let go of them. */
export async function closeDevices(servers: ServerProcess[]): Promise<void> {
  await Promise.all([...opened].map((close) => close()));
  opened.clear();
  await waitForSubscriptions(servers.filter((s) => s.child.exitCode === null && s.child.signalCode === null).map((s) => [s, 0]));
}

function device<T>(server: ServerProcess, member: Member, document: DocumentNode, variables?: Record<string, unknown>) {
  const client: Client = wsClient(server.wsUrl, member.token, `${member.sub}-${server.port}-${opened.size}`);
  const subscription = new Subscription<T>(client, document, variables);
  const close = async () => {
    opened.delete(close);
    subscription.stop();
    await client.dispose();
  };
  opened.add(close);
  return { subscription, close };
}

/** A device of `member` connected to `server`, listening to a channel's messages. */
export function listen(server: ServerProcess, member: Member, channelId: string, afterSeq?: number) {
  const { subscription, close } = device<{ messageAdded: Received }>(server, member, MessageAddedDocument, { channelId, afterSeq });
  return {
    subscription,
    close,
    messages: () => subscription.events.map((e) => e.messageAdded),
    seqs: () => subscription.events.map((e) => e.messageAdded.seq),
  };
}

/** A device of `member` connected to `server` with the app's one stream, viewerEvents. */
export function watchViewerEvents(server: ServerProcess, member: Member) {
  const { subscription, close } = device<ViewerEventsSubscription>(server, member, ViewerEventsDocument);
  const ofKind = <K extends ViewerEvent['__typename']>(kind: K) =>
    subscription.events.map((e) => e.viewerEvents).filter((e): e is Extract<ViewerEvent, { __typename: K }> => e.__typename === kind);
  return { subscription, close, ofKind };
}

/** Sends the texts, `concurrency` at a time, and returns what the server stored for each. */
export async function sendAll(member: Member, channelId: string, texts: string[], concurrency: number) {
  const stored: { seq: number; text: string }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < texts.length) {
      const text = texts[next++]!;
      const { sendMessage } = await member.run(SendMessageDocument, { input: { channelId, text } });
      stored.push({ seq: sendMessage.seq, text: sendMessage.text });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return stored;
}

/** The (seq, text) pairs a listener must have received: every stored message once, by seq. */
export const inSeqOrder = (stored: { seq: number; text: string }[]) => [...stored].sort((a, b) => a.seq - b.seq);
