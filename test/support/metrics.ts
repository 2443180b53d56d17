// What a server process reports at /metrics, as an operator's scraper would read it.

async function scrape(server: { port: number }): Promise<string[]> {
  return (await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text()).split('\n');
}

/** The value of a metric without labels (NaN when the process does not report it). */
export async function metricValue(server: { port: number }, name: string): Promise<number> {
  const line = (await scrape(server)).find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? NaN);
}

/** The sum of a labelled metric's series whose labels (`method="…"`) match, or of all of them. */
export async function metricSum(server: { port: number }, name: string, labels: RegExp = /./): Promise<number> {
  return (await scrape(server))
    .filter((line) => line.startsWith(`${name}{`) && labels.test(line.slice(name.length + 1, line.lastIndexOf('}'))))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}
