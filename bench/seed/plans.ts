// What a bench deployment starts with, written through the Store port straight into the
// deployment's SQLite file before its server processes start. Provisioning tens of thousands of
// users and memberships over HTTP would dominate the run and measure nothing the scenarios ask.
import { newId } from '../../src/domain/ids.ts';
import { newOrganization } from '../../src/domain/organizations.ts';
import type { Channel, Organization } from '../../src/domain/types.ts';
import type { MessageDraft, Store } from '../../src/store/store.ts';

export interface BenchUser {
  id: string;
  name: string;
}

/** User i of a bench deployment. Tokens carry the same id and name, so signing in changes nothing. */
export const benchUser = (i: number): BenchUser => ({ id: `bench-user-${i}`, name: `user${i}` });
/** Creates the organizations and sends the fan-out messages. */
export const BENCH_ADMIN: BenchUser = { id: 'bench-admin', name: 'admin' };

export type SeedPlan =
  /** An organization of `creator` and users 0..users-1, all in #general and in `channels` more channels. */
  | { kind: 'organization'; name: string; creator: BenchUser; users: number; channels?: number }
  /** Per size, an organization whose #general has that many members, `messages` messages and read markers. */
  | { kind: 'receipts'; sizes: number[]; messages: number }
  /** The send-throughput shape on a fresh file, then SqliteStore.appendMessage in a closed loop. */
  | { kind: 'storeCeiling'; senders: number; channels: number; warmupSeconds: number; seconds: number };

export interface OrganizationSeed {
  organizationId: string;
  generalChannelId: string;
  /** The extra channels, in creation order. */
  channelIds: string[];
}

export interface ReceiptsSeed {
  channels: { members: number; channelId: string; lastSeq: number }[];
}

export interface CeilingResult {
  messages: number;
  seconds: number;
}

export interface SeedResults {
  organization: OrganizationSeed;
  receipts: ReceiptsSeed;
  storeCeiling: CeilingResult;
}

export type Report = (message: string) => void;

/** Every few seconds at most, so 50,000 users make a handful of lines. */
export function throttled(report: Report): (message: () => string, force?: boolean) => void {
  let last = Date.now();
  return (message, force = false) => {
    if (!force && Date.now() - last < 2000) return;
    last = Date.now();
    report(message());
  };
}

export async function createOrganization(store: Store, name: string, creator: BenchUser): Promise<{ org: Organization; general: Channel }> {
  await store.upsertUsers([{ ...creator, displayName: null, email: null }]);
  const { org, general } = newOrganization(name, new Date());
  await store.createOrganization(org, general, creator.id);
  return { org, general };
}

/** Users written per store call. */
const USER_BATCH = 500;

/** Users 0..count-1 exist and are members of the organization and its #general. */
export async function addUsers(store: Store, orgId: string, count: number, what: string, report: Report): Promise<void> {
  const tell = throttled(report);
  const started = Date.now();
  for (let first = 0; first < count; first += USER_BATCH) {
    const batch = Array.from({ length: Math.min(USER_BATCH, count - first) }, (_, k) => benchUser(first + k));
    await store.upsertUsers(batch.map((user) => ({ ...user, displayName: null, email: null })));
    for (const user of batch) await store.addOrgMember(orgId, user.id, new Date());
    const done = first + batch.length;
    tell(() => `${what}: ${done}/${count} users and memberships (${Math.round(done / Math.max((Date.now() - started) / 1000, 0.001))}/s)`, done === count);
  }
}

export async function seedOrganization(store: Store, plan: Extract<SeedPlan, { kind: 'organization' }>, report: Report): Promise<OrganizationSeed> {
  const { org, general } = await createOrganization(store, plan.name, plan.creator);
  await addUsers(store, org.id, plan.users, plan.name, report);
  const members = [plan.creator.id, ...Array.from({ length: plan.users }, (_, i) => benchUser(i).id)];
  const channelIds: string[] = [];
  for (let k = 0; k < (plan.channels ?? 0); k++) {
    const now = new Date();
    const channel: Channel = { ...general, id: newId('ch'), name: `bench-${k}`, lastActiveAt: now, createdAt: now, memberCount: 0 };
    await store.createChannel(channel, members);
    channelIds.push(channel.id);
  }
  if (channelIds.length > 0) report(`${plan.name}: ${channelIds.length} channels of ${members.length} members`);
  return { organizationId: org.id, generalChannelId: general.id, channelIds };
}

export function draft(channelId: string, authorId: string, text: string, clientMessageId: string | null): MessageDraft {
  return { id: newId('msg'), channelId, authorId, text, mentions: [], mentionsChannel: false, sentAt: new Date(), clientMessageId };
}

