// A TCP proxy in front of a server, for cutting one client off while others stay connected (a
// network partition of one process), then letting it through again.
import { type Server, type Socket, createServer, connect } from 'node:net';

export interface TcpProxy {
  /** Where clients connect instead of the target. */
  port: number;
  /** Drops every open connection and refuses new ones until restore(). */
  cut(): void;
  restore(): void;
  /** Holds what clients send for this long before passing it on (0: at once). */
  setLatency(ms: number): void;
  close(): Promise<void>;
}

/** Listens on a free loopback port and forwards each connection to target. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let open = true;
  let latencyMs = 0;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server: Server = createServer((client) => {
    track(client);
    if (!open) return void client.destroy();
    const upstream = connect(target.port, target.host);
    track(upstream);
    upstream.pipe(client);
    // Equal delays keep the order: timers of the same length fire in the order they were set.
    client.on('data', (chunk) => (latencyMs > 0 ? setTimeout(() => upstream.write(chunk), latencyMs) : upstream.write(chunk)));
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const dropAll = () => {
    for (const socket of sockets) socket.destroy();
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
