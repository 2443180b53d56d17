// A full garbage collection in a server process, through its inspector (started with
// --inspect=127.0.0.1:<port>), so "RSS before" and "RSS after N connections" are both taken on a
// collected heap, not at whatever point V8 last happened to collect. Works the same for every
// system, ours included, without any hook in their code.
import WebSocket from 'ws';

export async function collectGarbage(inspectPort: number): Promise<void> {
  const list = (await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`, { signal: AbortSignal.timeout(5000) })).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  const url = list[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspector target on port ${inspectPort}`);
  const ws = new WebSocket(url);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('garbage collection timed out')), 30_000);
      ws.on('error', reject);
      ws.on('open', () => ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' })));
      ws.on('message', (data) => {
        if ((JSON.parse(data.toString()) as { id?: number }).id === 1) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } finally {
    ws.close();
  }
}
