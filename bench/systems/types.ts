// What the scenarios need from a system under test. Each system is a small adapter: how to start
// its server processes, how to set up a channel with N subscribers, how to send one message.
import type { ServerProcess } from '../lib/proc.ts';
import type { Params, ProtocolName } from '../load/protocols.ts';

export type SystemName = 'ours' | 'bare' | 'socketio';

export interface System {
  name: SystemName;
  /** As printed: "ours", "bare ws", "socket.io". */
  label: string;
  protocol: ProtocolName;
  /** Why the system cannot run here, or undefined when it can. */
  unavailable(): string | undefined;
  /** Starts `processes` server processes sharing one Redis. */
  start(processes: number, redisUrl: string): Promise<Deployment>;
}

export interface Deployment {
  servers: ServerProcess[];
  /** ws://127.0.0.1:<port> of each server process. */
  urls: string[];
  /** Sets up one channel for `subscribers` connections; returns what the clients need. */
  prepare(subscribers: number): Promise<Params>;
  /** Sends one message to that channel (through the first server process). */
  publish(text: string): Promise<void>;
  stop(): Promise<void>;
}
