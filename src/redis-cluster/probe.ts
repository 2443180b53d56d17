// Whether the cluster answers at all. The Cluster client only notices a lost node when a command
// goes to it, and a process that holds no subscription and sends nothing would report a dead
// cluster as up: every second each master is asked for a PING.
import type { Cluster } from 'ioredis';
import type { Logger } from '../logger.ts';

const PROBE_MS = 1000;

export class MasterProbe {
  /** At the last probe some master answered within the interval. */
  reachable = true;
  private readonly timer: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => void this.probe(), PROBE_MS);
    this.timer.unref();
  }

  private async probe(): Promise<void> {
    const masters = this.cluster.nodes('master');
    const answers = await Promise.allSettled(
      masters.map((master) => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error('no answer')), PROBE_MS);
        });
        return Promise.race([master.ping(), late]).finally(() => clearTimeout(timer));
      }),
    );
    const reachable = answers.some((answer) => answer.status === 'fulfilled');
    if (this.stopped || reachable === this.reachable) return;
    this.reachable = reachable;
    if (reachable) this.logger.info('redis cluster: reachable again');
    else this.logger.warn({ masters: masters.length }, 'redis cluster: no master answers');
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }
}
