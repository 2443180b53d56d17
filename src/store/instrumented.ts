// A layer around any Store that counts and times every call (chat_store_calls_total,
// chat_store_call_seconds): operators see what the store costs, tests see how many calls a
// request makes.
import client from 'prom-client';
import type { Store } from './store.ts';

/**
 * The same store, with every method call counted and timed in the registry, under `prefix`: a
 * background part (the push outbox) counts apart, so request costs stay readable.
 */
export function instrumentStore(store: Store, registry: client.Registry, prefix = 'chat_store'): Store {
  const calls = new client.Counter({
    name: `${prefix}_calls_total`,
    help: 'Store calls by method',
    labelNames: ['method'],
    registers: [registry],
  });
  const seconds = new client.Histogram({
    name: `${prefix}_call_seconds`,
    help: 'Store call duration by method',
    labelNames: ['method'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return async (...args: unknown[]) => {
        calls.inc({ method: property });
        const stop = seconds.startTimer({ method: property });
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          stop();
        }
      };
    },
  });
}
