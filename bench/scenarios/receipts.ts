// Read receipts (ours only): the newest page of 50 of a channel with readCount, deliveredCount
// and status on each message, against the same page without them, in channels of growing size
// where most members have read (seed/receipts.ts). ratio = with ÷ without (1.00 = receipts cost
// nothing). The answers are also checked against the counts the seeded markers make.
import { ChannelMessagesDocument, ChannelMessagesWithReceiptsDocument } from '../../operations/generated/graphql.ts';
import { toGlobalId } from '../../src/domain/ids.ts';
import { measureInTurn } from '../lib/latency.ts';
import { progress } from '../lib/log.ts';
import type { Observation } from '../lib/report.ts';
import { expectedReceipts } from '../seed/receipts.ts';
import { startOurs } from '../systems/ours.ts';

export interface ReceiptsPlan {
  members: number[];
  /** Messages in each channel (the page is the newest 50 of them). */
  messages: number;
  /** Sampling time per channel (at 50,000 members one page may take a second). */
  budgetMs: number;
}

const PAGE = 50;

const ms = (value: number) => (value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(value < 10 ? 2 : 1)} ms`);

export async function runReceipts(redis: { url: string; flush(): Promise<void> }, plan: ReceiptsPlan, emit: (observation: Observation) => void): Promise<void> {
  await redis.flush();
  progress(`receipts: seeding channels of ${plan.members.join(', ')} members, then starting ours`);
  const ours = await startOurs(1, redis.url, { kind: 'receipts', sizes: plan.members, messages: plan.messages });
  try {
    for (const { members, channelId, lastSeq } of ours.seeded.channels) {
      const variables = { channelId: toGlobalId('Channel', channelId), last: PAGE };
      const page = await ours.api.request(ours.adminToken, ChannelMessagesWithReceiptsDocument, variables);
      const got = new Map(page.channel?.messages.edges.map(({ node }) => [node.seq, node]) ?? []);
      const expected = expectedReceipts(members, lastSeq, lastSeq - PAGE + 1);
      const wrong = expected.filter((e) => {
        const node = got.get(e.seq);
        return !node || node.readCount !== e.readCount || node.deliveredCount !== e.deliveredCount || node.status !== e.status;
      });
      const first = wrong[0] && got.get(wrong[0].seq);
      const sample = wrong[0] && `seq ${wrong[0].seq}: ${first ? `read ${first.readCount} delivered ${first.deliveredCount} ${first.status}` : 'missing'}, expected read ${wrong[0].readCount} delivered ${wrong[0].deliveredCount} ${wrong[0].status}`;

      progress(`receipts ${members} members: measuring the page with and without receipts in turn`);
      const [withReceipts, without] = await measureInTurn(
        [
          async () => {
            await ours.api.request(ours.adminToken, ChannelMessagesWithReceiptsDocument, variables);
          },
          async () => {
            await ours.api.request(ours.adminToken, ChannelMessagesDocument, variables);
          },
        ],
        { samples: 200, warmup: members >= 10_000 ? 3 : 20, budgetMs: plan.budgetMs, minSamples: 10 },
      );
      const ratio = withReceipts!.p50 / without!.p50;
      const counts = `counts: ${wrong.length} mismatches of ${PAGE} messages${sample ? `, e.g. ${sample}` : ''}`;
      emit({
        kind: 'observation',
        title: `read receipts ${members} members`,
        values: {
          members,
          withP50: withReceipts!.p50,
          withP99: withReceipts!.p99,
          withoutP50: without!.p50,
          withoutP99: without!.p99,
          samples: withReceipts!.samples,
          ratio,
          mismatches: wrong.length,
        },
        line:
          `read receipts, newest page of ${PAGE} at ${members} members: ratio ${ratio.toFixed(2)} = with ÷ without ` +
          `(with readCount deliveredCount status p50 ${ms(withReceipts!.p50)} p99 ${ms(withReceipts!.p99)}, ` +
          `without p50 ${ms(without!.p50)} p99 ${ms(without!.p99)}, ${withReceipts!.samples} samples each); ${counts}`,
      });
    }
  } finally {
    await ours.stop();
  }
}
