// What the scenarios need from a system under test. Each system is a small adapter: how to start
// its server processes ready for N subscribers, what the subscribers send, how to send one message.
import type { ServerProcess } from '../lib/proc.ts';
import type { Params, ProtocolName } from '../load/protocols.ts';

export type SystemName = 'ours' | 'bare' | 'socketio';

/**
 * What ours' subscribers are. best: 100 users holding all the connections, all on messageAdded
 * with one shared document (the best case). messageAdded / viewerEvents: every connection is a
 * different user, on the client app's own MessageAdded / ViewerEvents document.
 */
export type Workload = 'best' | 'messageAdded' | 'viewerEvents';

export interface StartOptions {
  processes: number;
  redisUrl: string;
  /** ours only: the servers' Redis variables instead of REDIS_URL (REDIS_CLUSTER_NODES of a cluster). */
  redisEnv?: Record<string, string>;
  /** Connections the deployment is set up for. */
  subscribers: number;
}

export interface System {
  name: SystemName;
  /** As printed: "ours", "ours viewerEvents", "bare ws", "socket.io". */
  label: string;
  /** ours only. */
  workload?: Workload;
  protocol: ProtocolName;
  /** Why the system cannot run here, or undefined when it can. */
  unavailable(): string | undefined;
  /** Starts `processes` server processes sharing one Redis, with one channel for `subscribers`. */
  start(options: StartOptions): Promise<Deployment>;
}

export interface Deployment {
  servers: ServerProcess[];
  /** ws://127.0.0.1:<port> of each server process. */
  urls: string[];
  /** What the subscribers need (tokens are minted here, before the connect phase is timed). */
  prepare(): Promise<Params>;
  /** Sends one message to the channel (through the first server process); ours mentions these users. */
  publish(text: string, mentions?: readonly number[]): Promise<void>;
  stop(): Promise<void>;
}
