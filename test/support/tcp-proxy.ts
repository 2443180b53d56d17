// A TCP proxy in front of a server, for cutting one client off while others stay connected (a
// network partition of one process), then letting it through again; or for cutting some of the
// connections through it at once (a chaos run's flaky network).
import { type Server, type Socket, createServer, connect } from 'node:net';

export interface TcpProxy {
  /** Where clients connect instead of the target. */
  port: number;
  /** Drops every open connection and refuses new ones until restore(). */
  cut(): void;
  restore(): void;
  /**
   * Resets (TCP RST, on both sides) each open connection with this probability, drawn from
   * `random`; new connections are let through. Returns how many were cut.
   */
  cutSome(probability: number, random: () => number): number;
  /** Open connections (client to proxy), for reports. */
  readonly connections: number;
  /** Holds what clients send for this long before passing it on (0: at once). */
  setLatency(ms: number): void;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
}

/** Listens on a free loopback port and forwards each connection to target. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let open = true;
  let latencyMs = 0;
  const guard = (socket: Socket) => socket.on('error', () => socket.destroy());
  const server: Server = createServer((client) => {
    guard(client);
    if (!open) return void client.destroy();
    const upstream = connect(target.port, target.host);
    guard(upstream);
    const pair = { client, upstream };
    pairs.add(pair);
    upstream.pipe(client);
    // Equal delays keep the order: timers of the same length fire in the order they were set.
    client.on('data', (chunk) => (latencyMs > 0 ? setTimeout(() => upstream.write(chunk), latencyMs) : upstream.write(chunk)));
    client.once('close', () => {
      pairs.delete(pair);
      upstream.destroy();
    });
    upstream.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const dropAll = () => {
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream.destroy();
    }
  };
  return {
    port,
    cut() {
      open = false;
      dropAll();
    },
    restore() {
      open = true;
    },
    cutSome(probability, random) {
      let cut = 0;
      for (const { client, upstream } of [...pairs]) {
        if (random() >= probability) continue;
        cut++;
        // A reset, not a goodbye: neither side gets a close frame or a FIN.
        for (const socket of [client, upstream]) {
          if (socket.destroyed) continue;
          if (typeof socket.resetAndDestroy === 'function' && !socket.connecting) socket.resetAndDestroy();
          else socket.destroy();
        }
      }
      return cut;
    },
    get connections() {
      return pairs.size;
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        dropAll();
        server.close(() => resolve());
      }),
  };
}
