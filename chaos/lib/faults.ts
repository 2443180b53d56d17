// Runs the plan's faults at their times, overlapping when their times overlap, and records when
// each really began and ended (the latency figures leave these windows out).
import { now, sleep } from '../../bench/lib/clock.ts';
import type { Role } from '../clients/messages.ts';
import type { ChaosServer, Cluster } from './cluster.ts';
import type { ClientProcess } from './fleet.ts';
import type { Fault, Plan } from './plan.ts';
import type { Random } from './random.ts';

export interface FaultRecord {
  index: number;
  kind: Fault['kind'];
  target: string;
  plannedAt: number;
  startedAt: number | null;
  endedAt: number | null;
  detail: string;
}

const WAIT_FOR_TARGET_MS = 30_000;

/** The planned server if it is up (waiting a while for it), else none: a fault never takes the last one. */
async function serverFor(cluster: Cluster, planned: number): Promise<ChaosServer | null> {
  const server = cluster.servers[planned]!;
  const deadline = now() + WAIT_FOR_TARGET_MS;
  while (now() < deadline) {
    const othersUp = cluster.servers.filter((s) => s !== server && s.state === 'up').length;
    if (server.state === 'up' && (othersUp > 0 || cluster.servers.length === 1)) return server;
    await sleep(200);
  }
  return null;
}

export async function runFaults(
  plan: Plan,
  cluster: Cluster,
  clients: Record<Role, ClientProcess>,
  rng: Random,
  t0: number,
  progress: (line: string) => void,
): Promise<FaultRecord[]> {
  const records: FaultRecord[] = [];
  const running: Promise<void>[] = [];
  const total = plan.faults.length;

  async function inject(fault: Fault, record: FaultRecord): Promise<void> {
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const label = `fault ${fault.index + 1}/${total}`;
    if (fault.kind === 'kill' || fault.kind === 'pause') {
      const server = await serverFor(cluster, fault.target);
      if (!server) {
        record.detail = 'skipped: the server was still out';
        progress(`${label}: ${fault.kind} s${fault.target} skipped, it is still out`);
        return;
      }
      record.startedAt = now();
      if (fault.kind === 'kill') {
        progress(`${label}: kill -9 ${server.label}, restart in ${seconds(fault.durationMs)}`);
        await cluster.kill(server);
        await sleep(fault.durationMs);
        await cluster.startServer(server);
        record.detail = `down ${seconds(fault.durationMs)}, ready again after ${seconds(now() - record.startedAt)}`;
      } else {
        progress(`${label}: SIGSTOP ${server.label} for ${seconds(fault.durationMs)}`);
        cluster.pause(server);
        await sleep(fault.durationMs);
        cluster.resume(server);
        record.detail = `paused ${seconds(fault.durationMs)}`;
      }
      record.endedAt = now();
      progress(`${label}: ${server.label} is back (${record.detail})`);
      return;
    }
    record.startedAt = now();
    if (fault.kind === 'redis-restart') {
      progress(`${label}: Redis killed, back in ${seconds(fault.durationMs)}`);
      await cluster.redis.restart(fault.durationMs);
      record.detail = `down ${seconds(now() - record.startedAt)}`;
      progress(`${label}: Redis is back (${record.detail}, its data lost)`);
    } else if (fault.kind === 'cut') {
      const server = cluster.servers[fault.target]!;
      const open = server.proxy.connections;
      const cut = server.proxy.cutSome(fault.probability, rng.next);
      record.detail = `${cut} of ${open} connections to ${server.label} reset`;
      progress(`${label}: ${record.detail}`);
    } else {
      progress(`${label}: slow consumer ${fault.target} stops reading for ${seconds(fault.durationMs)}`);
      const replies = [clients.listeners, clients.devices].map((client) => client.next('stalled', 10_000).catch(() => null));
      for (const client of [clients.listeners, clients.devices]) client.send({ type: 'stall', consumer: fault.target, ms: fault.durationMs });
      const stalled = (await Promise.all(replies)).some((reply) => reply?.done);
      record.detail = stalled ? `stalled ${seconds(fault.durationMs)}` : 'skipped: the consumer was between connections';
      if (stalled) await sleep(fault.durationMs);
    }
    record.endedAt = now();
  }

  for (const fault of plan.faults) {
    const wait = t0 + fault.at - now();
    if (wait > 0) await sleep(wait);
    const target = fault.kind === 'redis-restart' ? 'redis' : fault.kind === 'slow' ? `consumer ${fault.target}` : `s${fault.target}`;
    const record: FaultRecord = { index: fault.index, kind: fault.kind, target, plannedAt: fault.at, startedAt: null, endedAt: null, detail: '' };
    records.push(record);
    running.push(
      inject(fault, record).catch((error: unknown) => {
        record.detail = `failed: ${(error as Error).message.slice(0, 200)}`;
        record.endedAt ??= now();
        progress(`fault ${fault.index + 1}/${total} (${fault.kind}) failed: ${record.detail}`);
      }),
    );
  }
  await Promise.all(running);
  return records;
}
