// IPC between the chaos run (parent) and its client processes.
import type { Timings } from '../lib/plan.ts';
import type { World } from '../lib/world.ts';

/** What a client process plays: the senders, the messageAdded listeners, or the devices (viewerEvents, readers, presence). */
export type Role = 'senders' | 'listeners' | 'devices';

export interface ClientSetup {
  role: Role;
  seed: number;
  httpUrls: string[];
  wsUrls: string[];
  world: World;
  timings: Timings;
  /** Where the process writes its history (JSON) when it finishes. */
  historyFile: string;
}

export type ToClient =
  | { type: 'setup'; setup: ClientSetup }
  /** The load starts; startAt times of late listeners count from now. */
  | { type: 'go' }
  /** A slow consumer stops reading for ms. */
  | { type: 'stall'; consumer: number; ms: number }
  /** No new operations; the ones under way finish (senders retry until giveUpInMs). */
  | { type: 'quiesce'; giveUpInMs: number }
  /** Catch up to these last seqs (by channel index) within ms, read final badges, write the history, exit. */
  | { type: 'finish'; lastSeqs: Record<number, number>; withinMs: number };

export type FromClient =
  | { type: 'ready' }
  | { type: 'progress'; counters: Record<string, number> }
  | { type: 'stalled'; consumer: number; done: boolean }
  /** No send or mark is under way any more. */
  | { type: 'drained' }
  | { type: 'finished'; caughtUp: boolean; behind: string[] };
