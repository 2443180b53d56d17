// --redis=cluster: the best-case fan-out on a local Redis Cluster (three masters, a replica each,
// started as the tests start theirs) against the same run on one Redis, in one invocation. Two
// server processes, so every message crosses the bus: SPUBLISH to the shard owning the channel's
// slot in one case, PUBLISH in the other. ratio = cluster ÷ single (1.00 = no cost).
import { startRedisCluster } from '../../test/support/redis-cluster.ts';
import { progress } from '../lib/log.ts';
import type { RedisHandle } from '../lib/redis.ts';
import { formatValue, type Observation, type Unit } from '../lib/report.ts';
import { ours } from '../systems/ours.ts';
import { runSession, type SessionRedis, type SessionResult } from './fanout.ts';

export interface ClusterPlan {
  sizes: number[];
  rounds: number;
  sustain: { rate: number; seconds: number };
}

const SERVER_PROCESSES = 2;

function line(title: string, unit: Unit, single: number | undefined, cluster: number | undefined): Observation {
  const known = single !== undefined && cluster !== undefined && Number.isFinite(single) && Number.isFinite(cluster) && single > 0;
  const ratio = known ? cluster / single : null;
  const value = (v: number | undefined) => (v === undefined ? 'n/a' : formatValue(v, unit));
  return {
    kind: 'observation',
    title,
    values: { single: single ?? Number.NaN, cluster: cluster ?? Number.NaN, ...(ratio !== null ? { ratio } : {}) },
    line: `${title}: ratio ${ratio !== null ? ratio.toFixed(2) : 'n/a'} (Redis Cluster ${value(cluster)}, single Redis ${value(single)})`,
  };
}

export async function runClusterComparison(plan: ClusterPlan, single: RedisHandle, emit: (observation: Observation) => void): Promise<void> {
  progress('starting a Redis Cluster: 6 redis-server processes, 3 masters with a replica each');
  const cluster = await startRedisCluster();
  const onCluster: SessionRedis = {
    url: 'redis-cluster',
    env: { REDIS_CLUSTER_NODES: cluster.seeds },
    // Replicas refuse writes: the masters empty themselves and their replicas.
    flush: async () => void (await Promise.all(cluster.ports().map((port) => cluster.node(port).flushall().catch(() => undefined)))),
  };
  try {
    for (const n of plan.sizes) {
      const sessions: Partial<Record<'single' | 'cluster', SessionResult>> = {};
      for (const [name, redis] of [['single', single], ['cluster', onCluster]] as const) {
        progress(`${n} subscribers on ${SERVER_PROCESSES} server processes, ${name === 'single' ? 'single Redis' : 'Redis Cluster'}`);
        try {
          sessions[name] = await runSession(ours, redis, { subscribers: n, rounds: plan.rounds, roundTimeoutMs: 10_000 + n, sustain: plan.sustain, serverProcesses: SERVER_PROCESSES });
        } catch (error) {
          progress(`${name}: failed: ${(error as Error).message.split('\n')[0]}`);
        }
      }
      const { single: s, cluster: c } = sessions;
      const what = `${n} subscribers on ${SERVER_PROCESSES} processes (best case)`;
      emit(line(`fan-out ${what}, Redis Cluster vs single Redis`, 'ms', s?.fanoutMs, c?.fanoutMs));
      emit(line(`server CPU per delivery, ${what}, Redis Cluster vs single Redis`, 'µs', s?.cpu.perDeliveryUs, c?.cpu.perDeliveryUs));
      const sustained = `sustained ${plan.sustain.rate} msg/s, ${what}`;
      emit(line(`${sustained}, p50 latency, Redis Cluster vs single Redis`, 'ms', s?.sustain?.p50, c?.sustain?.p50));
      emit(line(`${sustained}, p99 latency, Redis Cluster vs single Redis`, 'ms', s?.sustain?.p99, c?.sustain?.p99));
    }
  } finally {
    await cluster.stop();
  }
}
