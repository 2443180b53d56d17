// Waiting for something a test expects to become true, with a generous deadline (never a
// measured duration: a slow machine only makes the wait longer, never the test wrong).

/** Resolves once condition() is truthy; rejects with `what` after timeoutMs. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  { timeoutMs = 20_000, everyMs = 25 }: { timeoutMs?: number; everyMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** 1, 2, ..., n: the seqs a listener must receive from a channel of n messages. */
export const seqsUpTo = (n: number, from = 1) => Array.from({ length: n - from + 1 }, (_, i) => from + i);
