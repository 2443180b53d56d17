// The client processes of a run, one per role, driven over IPC (chaos/clients/main.ts).
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exited, stop, track } from '../../bench/lib/proc.ts';
import type { ClientSetup, FromClient, Role, ToClient } from '../clients/messages.ts';
import type { ClientHistory } from './history.ts';

const clientScript = fileURLToPath(new URL('../clients/main.ts', import.meta.url));

export class ClientProcess {
  readonly child: ChildProcess;
  counters: Record<string, number> = {};
  private waiters: { type: string; resolve: (message: FromClient) => void }[] = [];

  constructor(readonly setup: ClientSetup) {
    this.child = track(fork(clientScript, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    this.child.on('message', (message: FromClient) => {
      if (message.type === 'progress') this.counters = message.counters;
      const index = this.waiters.findIndex((waiter) => waiter.type === message.type);
      if (index !== -1) this.waiters.splice(index, 1)[0]!.resolve(message);
    });
    this.send({ type: 'setup', setup });
  }

  send(message: ToClient): void {
    if (this.child.connected) this.child.send(message);
  }

  /** The next message of this type; rejects after timeoutMs or when the process exits first. */
  next<T extends FromClient['type']>(type: T, timeoutMs: number): Promise<Extract<FromClient, { type: T }>> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => done(new Error(`${this.setup.role} client exited (${code}) before ${type}`));
      const timer = setTimeout(() => done(new Error(`no ${type} from the ${this.setup.role} client within ${timeoutMs} ms`)), timeoutMs);
      const waiter = { type, resolve: (message: FromClient) => done(undefined, message) };
      const done = (error?: Error, message?: FromClient) => {
        clearTimeout(timer);
        this.child.off('exit', onExit);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        if (error) reject(error);
        else resolve(message as Extract<FromClient, { type: T }>);
      };
      this.waiters.push(waiter);
      this.child.once('exit', onExit);
    });
  }

  history(): ClientHistory {
    return JSON.parse(readFileSync(this.setup.historyFile, 'utf8')) as ClientHistory;
  }

  async close(): Promise<void> {
    await exited(this.child, 5000);
    await stop(this.child, 1000);
  }
}

/** One process per role, each writing its history into dir. */
export function startFleet(dir: string, base: Omit<ClientSetup, 'role' | 'historyFile'>): Record<Role, ClientProcess> {
  const start = (role: Role) => new ClientProcess({ ...base, role, historyFile: path.join(dir, `history-${role}.json`) });
  return { listeners: start('listeners'), devices: start('devices'), senders: start('senders') };
}
