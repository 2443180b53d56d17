// What the federation tests share: the subgraph's SDL as composition tools fetch it, and a count
// of the store's calls (entity resolution must be batched through the loaders).
import type { Store } from '../../src/store/store.ts';

/** Counts the store's calls of the given methods and the ids each was asked for. */
export function countCalls(store: Store, methods: (keyof Store)[]) {
  const calls: Record<string, (readonly string[])[]> = {};
  const target = store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const originals = methods.map((method) => [method, target[method]!, Object.getOwnPropertyDescriptor(target, method)] as const);
  for (const [method, original] of originals) {
    calls[method] = [];
    target[method] = (...args: unknown[]) => {
      calls[method]!.push(args[0] as readonly string[]);
      return original.apply(store, args);
    };
  }
  return {
    calls,
    restore: () => {
      for (const [method, , own] of originals) {
        if (own) Object.defineProperty(target, method, own);
        else delete target[method];
      }
    },
  };
}

/** The subgraph's SDL, asked as composition tools ask it: `_service { sdl }`, without a token. */
export async function serviceSdl(url: string): Promise<string> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ _service { sdl } }' }),
  });
  const { data } = (await response.json()) as { data: { _service: { sdl: string } } };
  return data._service.sdl;
}
