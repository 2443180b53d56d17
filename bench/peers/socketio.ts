// Socket.IO peer: one room per channel; clients emit 'sub' (with an ack) to join. With REDIS_URL
// the @socket.io/redis-adapter lets several processes share rooms, as a real deployment would.
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { createControlServer, listenPort } from './http.ts';

const server = createControlServer((channel, text) => io.to(channel).emit('msg', text));
// websocket only: the load generator speaks Engine.IO over a plain ws, without HTTP polling.
const io = new Server(server, { transports: ['websocket'], serveClient: false });

const redisUrl = process.env.REDIS_URL;
if (redisUrl) {
  const pub = new Redis(redisUrl);
  io.adapter(createAdapter(pub, pub.duplicate()));
}

io.on('connection', (socket) => {
  socket.on('sub', (channel: unknown, ack?: (reply: string) => void) => {
    if (typeof channel !== 'string') return socket.disconnect(true);
    void socket.join(channel);
    ack?.('ok');
  });
});
server.listen(listenPort(), '127.0.0.1');

// Ended by the bench with SIGTERM: exiting through process.exit lets --cpu-prof write its profile.
process.once('SIGTERM', () => process.exit(0));
