// What a server process reports at /metrics, as an operator's scraper would read it.

/** The value of a metric without labels (NaN when the process does not report it). */
export async function metricValue(server: { port: number }, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? NaN);
}
