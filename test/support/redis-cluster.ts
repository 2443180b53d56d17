// A real Redis Cluster for the tests: six redis-server processes on free loopback ports (three
// masters, a replica each), joined by `redis-cli --cluster create`, in a temporary folder. A low
// cluster-node-timeout makes a replica take over a killed master within a couple of seconds. The
// processes are killed when the test file ends, and when the test process exits whatever happened.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './redis.ts';
import { waitUntil } from './wait.ts';

const run = promisify(execFile);

/** How long a master may be unreachable before its replica is promoted. */
const NODE_TIMEOUT_MS = 1000;

interface Node {
  port: number;
  args: string[];
  child: ChildProcess;
}

export interface TestRedisCluster {
  /** REDIS_CLUSTER_NODES for the server processes: every node, as seeds. */
  readonly seeds: string;
  /** The ports of the nodes still running. */
  ports(): number[];
  /** A plain connection to one node (for CLUSTER and PUBSUB commands), closed by stop(). */
  node(port: number): Redis;
  /** The port of the master that owns the key's (or topic's) slot now. */
  masterOf(key: string): Promise<number>;
  /** The ports of the masters that own slots now. */
  masters(): Promise<number[]>;
  /** Moves the key's slot (and its keys) to the master on that port, as a resharding does. */
  moveSlot(key: string, toPort: number): Promise<void>;
  /** kill -9 of the node on that port. */
  kill(port: number): Promise<void>;
  /** Starts a killed node again, empty, with its cluster configuration (it rejoins the cluster). */
  restart(port: number): Promise<void>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// Whatever ends the test process (a failed hook, an interrupted run), no redis-server outlives it.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

async function clusterInfo(client: Redis): Promise<Record<string, string>> {
  const text = (await client.cluster('INFO')) as string;
  return Object.fromEntries(text.split('\r\n').filter(Boolean).map((line) => line.split(':') as [string, string]));
}

export async function startRedisCluster(): Promise<TestRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'chat-redis-cluster-'));
  const nodes: Node[] = [];
  const clients = new Map<number, Redis>();
  const node = (port: number) => {
    let client = clients.get(port);
    if (!client) {
      client = new Redis({ host: '127.0.0.1', port, lazyConnect: false, maxRetriesPerRequest: 1, retryStrategy: () => 200 });
      client.on('error', () => {}); // a killed node refuses: the caller's command fails, which it expects
      clients.set(port, client);
    }
    return client;
  };
  const live = () => nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null);

  const stop = async () => {
    for (const client of clients.values()) client.disconnect();
    clients.clear();
    await Promise.all(
      nodes.map(async ({ child }) => {
        running.delete(child);
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    for (let i = 0; i < 6; i++) {
      // The cluster bus needs a port of its own (port + 10000 by default, which may be out of range).
      const [port, busPort] = [await freePort(), await freePort()];
      const args = [
        ...['--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1', '--dir', dir],
        ...['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${i}.conf`)],
        ...['--cluster-node-timeout', String(NODE_TIMEOUT_MS), '--save', '', '--appendonly', 'no'],
        // A replica takes over however long ago it last heard from its master (the default
        // refuses one whose link is older than ten node timeouts: a loaded machine's tests).
        ...['--cluster-replica-validity-factor', '0'],
      ];
      nodes.push({ port, args, child: spawnNode(args) });
    }
    for (const { port } of nodes) await waitUntil(async () => (await node(port).ping().catch(() => '')) === 'PONG', `redis node ${port} to answer`);
    const addresses = nodes.map(({ port }) => `127.0.0.1:${port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes'], { timeout: 30_000 });
    for (const { port } of nodes) {
      await waitUntil(async () => (await clusterInfo(node(port))).cluster_state === 'ok', `cluster_state:ok on node ${port}`, { timeoutMs: 30_000 });
      // A replica that has not synchronized with its master yet could not take over from it.
      await waitUntil(async () => !/role:slave/.test(await node(port).info('replication')) || /master_link_status:up/.test(await node(port).info('replication')), `node ${port}'s replication link`, { timeoutMs: 30_000 });
    }
  } catch (error) {
    await stop();
    throw error;
  }

  const anyLive = () => node(live()[0]!.port);
  const cluster: TestRedisCluster = {
    seeds: nodes.map(({ port }) => `127.0.0.1:${port}`).join(','),
    ports: () => live().map((n) => n.port),
    node,
    async masterOf(key) {
      const client = anyLive();
      const slot = (await client.cluster('KEYSLOT', key)) as number;
      const ranges = await client.cluster('SLOTS');
      const master = ranges.find(([from, to]) => slot >= from && slot <= to)?.[2];
      if (!master) throw new Error(`no master owns slot ${slot}`);
      return master[1];
    },
    async masters() {
      const ranges = await anyLive().cluster('SLOTS');
      return [...new Set(ranges.flatMap((range) => (range[2] ? [range[2][1]] : [])))];
    },
    async moveSlot(key, toPort) {
      const slot = (await anyLive().cluster('KEYSLOT', key)) as number;
      const fromPort = await cluster.masterOf(key);
      const [from, to] = [node(fromPort), node(toPort)];
      const [fromId, toId] = (await Promise.all([from.cluster('MYID'), to.cluster('MYID')])) as [string, string];
      await to.cluster('SETSLOT', slot, 'IMPORTING', fromId);
      await from.cluster('SETSLOT', slot, 'MIGRATING', toId);
      for (;;) {
        const keys = (await from.cluster('GETKEYSINSLOT', slot, 100)) as string[];
        if (keys.length === 0) break;
        await from.call('MIGRATE', '127.0.0.1', toPort, '', 0, 5000, 'KEYS', ...keys);
      }
      for (const port of await cluster.masters()) await node(port).cluster('SETSLOT', slot, 'NODE', toId);
    },
    async kill(port) {
      const target = nodes.find((n) => n.port === port);
      if (!target || target.child.exitCode !== null || target.child.signalCode !== null) return;
      clients.get(port)?.disconnect();
      clients.delete(port);
      const exited = new Promise((r) => target.child.once('exit', r));
      target.child.kill('SIGKILL');
      await exited;
    },
    async restart(port) {
      const target = nodes.find((n) => n.port === port);
      if (!target || (target.child.exitCode === null && target.child.signalCode === null)) return;
      target.child = spawnNode(target.args);
      await waitUntil(async () => (await node(port).ping().catch(() => '')) === 'PONG', `redis node ${port} to answer again`);
    },
    stop,
  };
  return cluster;
}

function spawnNode(args: string[]): ChildProcess {
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/**
 * Waits until every live node says that a replica has taken over the killed master's slots: the
 * master is no longer in its slot map and cluster_state is ok again.
 */
export async function waitForFailover(cluster: TestRedisCluster, killed: number, timeoutMs = 20_000): Promise<void> {
  const promoted = async (port: number) => {
    const node = cluster.node(port);
    const [info, slots] = await Promise.all([clusterInfo(node), node.cluster('SLOTS')]);
    return info.cluster_state === 'ok' && slots.every((range) => range[2]?.[1] !== killed);
  };
  for (const port of cluster.ports()) {
    await waitUntil(() => promoted(port).catch(() => false), `node ${port} to see a replica in place of ${killed}`, { timeoutMs });
  }
}

/** Waits until every live node says cluster_state:ok (after nodes were restarted). */
export async function waitForClusterOk(cluster: TestRedisCluster, timeoutMs = 20_000): Promise<void> {
  for (const port of cluster.ports()) {
    await waitUntil(async () => (await clusterInfo(cluster.node(port)).catch(() => ({}) as Record<string, string>)).cluster_state === 'ok', `cluster_state:ok on node ${port}`, { timeoutMs });
  }
}
