// Latency of sequential calls: p50/p99 after a warm-up, bounded in count and in time.
import { now } from './clock.ts';
import { percentile } from './stats.ts';

export interface LatencyOptions {
  samples?: number;
  warmup?: number;
  /** Stop sampling after this long, once `minSamples` are in (a 1-second call must not take 200 s). */
  budgetMs?: number;
  minSamples?: number;
}

export interface Latency {
  p50: number;
  p99: number;
  samples: number;
}

/**
 * p50/p99 of each of several calls, taken in turn (a, b, a, b ...) so that drift of a busy
 * machine affects them alike.
 */
export async function measureInTurn(calls: (() => Promise<void>)[], options: LatencyOptions = {}): Promise<Latency[]> {
  const { samples = 200, warmup = 20, budgetMs = Number.POSITIVE_INFINITY, minSamples = 20 } = options;
  for (let i = 0; i < warmup; i++) for (const call of calls) await call();
  const times = calls.map((): number[] => []);
  const started = now();
  for (let i = 0; i < samples && (i < minSamples || now() - started < budgetMs); i++) {
    for (const [k, call] of calls.entries()) {
      const start = now();
      await call();
      times[k]!.push(now() - start);
    }
  }
  return times.map((list) => ({ p50: percentile(list, 50), p99: percentile(list, 99), samples: list.length }));
}

/** p50/p99 of sequential calls of one function. */
export async function measure(call: () => Promise<void>, options: LatencyOptions = {}): Promise<Latency> {
  return (await measureInTurn([call], options))[0]!;
}
