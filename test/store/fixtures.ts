// Builders of records for store tests: fixtures go through the store port, so they work on every store.
import { directKeyOf, newId } from '../../src/domain/ids.ts';
import type { Channel, Organization } from '../../src/domain/types.ts';
import type { MessageDraft, Store } from '../../src/store/store.ts';

let clock = Date.UTC(2026, 0, 1);
/** A strictly increasing time, so orderings by time are deterministic. */
export function tick(): Date {
  clock += 1000;
  return new Date(clock);
}

export async function user(store: Store, name: string) {
  const id = `u-${name}-${newId('x')}`;
  await store.upsertUsers([{ id, name, displayName: null, email: null }]);
  return (await store.findUsersByIds([id]))[0]!;
}

export function groupChannel(orgId: string, name: string, at = tick()): Channel {
  return { id: newId('ch'), orgId, kind: 'GROUP', name, directKey: null, lastSeq: 0, lastActiveAt: at, memberCount: 0, createdAt: at };
}

export function directChannel(orgId: string, a: string, b: string, at = tick()): Channel {
  return { ...groupChannel(orgId, '', at), kind: 'DIRECT', directKey: directKeyOf(a, b) };
}

/** An organization with its #general channel, created by creatorId. */
export async function organization(store: Store, creatorId: string, name = 'Acme') {
  const at = tick();
  const general = groupChannel('', 'general', at);
  const org: Organization = { id: newId('org'), name, createdAt: at, memberCount: 1, generalChannelId: general.id };
  general.orgId = org.id;
  await store.createOrganization(org, general, creatorId);
  return { org, general };
}

export function draft(channelId: string, authorId: string, text: string, extra: Partial<MessageDraft> = {}): MessageDraft {
  return {
    id: newId('msg'),
    channelId,
    authorId,
    text,
    mentions: [],
    mentionsChannel: false,
    sentAt: tick(),
    clientMessageId: null,
    ...extra,
  };
}
