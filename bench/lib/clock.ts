// One clock for the parent and every child process. performance.timeOrigin is wall-clock based,
// so readings from different processes on this machine are comparable, and performance.now()
// adds sub-millisecond resolution (Date.now() alone would round every latency to 1 ms).
export const now = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
