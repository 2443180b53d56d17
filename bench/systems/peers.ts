// The two peers, started from bench/peers/: both take POST /publish?c=<channel> to send.
import { post } from '../lib/http.ts';
import { startReady, stop } from '../lib/proc.ts';
import type { Deployment, System, SystemName } from './types.ts';

const CHANNEL = 'general';

function peer(name: SystemName, label: string, script: string, protocol: System['protocol']): System {
  return {
    name,
    label,
    protocol,
    unavailable: () => undefined,
    async start({ processes, redisUrl }) {
      const servers = await startReady(
        Array.from({ length: processes }, (_, i) => ({ label: `${label}#${i}`, script, env: { REDIS_URL: redisUrl } })),
        '/ready',
        30_000,
      );
      const publishUrl = `http://127.0.0.1:${servers[0]!.port}/publish?c=${CHANNEL}`;
      const deployment: Deployment = {
        servers,
        urls: servers.map((server) => `ws://127.0.0.1:${server.port}`),
        prepare: async () => ({ channel: CHANNEL }),
        async publish(text) {
          const { status } = await post(publishUrl, text, { 'content-type': 'text/plain; charset=utf-8' }, 30_000);
          if (status !== 200) throw new Error(`${label} publish: HTTP ${status}`);
        },
        stop: async () => {
          await Promise.all(servers.map((server) => stop(server.child)));
        },
      };
      return deployment;
    },
  };
}

export const bare = peer('bare', 'bare ws', 'bench/peers/bare-ws.ts', 'bare');
export const socketio = peer('socketio', 'socket.io', 'bench/peers/socketio.ts', 'socketio');
