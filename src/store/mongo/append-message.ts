// The two ways a message is appended: in one transaction where the deployment has them, or by
// claiming the seq through the unique {channelId, seq} index on a standalone server. Why the
// standalone way is not $inc-then-insert: see the top of messages.ts. In the sharded layout (always
// transactions) the transaction also records where the message is (messageIds) and reserves its
// clientMessageId (clientMessageIds), which a sharded messages collection cannot keep unique.
import type { Message } from '../../domain/types.ts';
import { type MessageDraft, StoreError } from '../store.ts';
import * as channels from './channels.ts';
import * as clientMessageIds from './client-message-ids.ts';
import type { Session } from './database.ts';
import { isConnectionError, isDuplicateKey, isDuplicateOn } from './errors.ts';
import { type MarkerCollections, advanceMarkers } from './member-markers.ts';
import * as messageIds from './message-ids.ts';
import * as messages from './messages.ts';

export interface AppendCollections extends MarkerCollections {
  channels: channels.Channels;
  messages: messages.Messages;
  messageIds: messageIds.MessageIds;
  clientMessageIds: clientMessageIds.ClientMessageIds;
  sharded: boolean;
}

export type Appended = { message: Message; created: boolean };

/** A claimed seq can be lost this many times in a row (each loss means another sender succeeded). */
const MAX_CLAIMS = 1000;
/** An insert whose connection broke is tried again this many times. */
const MAX_TRANSIENT_RETRIES = 3;

function noSuchChannel(channelId: string): StoreError {
  return new StoreError('unavailable', `channel ${channelId} does not exist`);
}

/** The stored message of a draft retried with the same clientMessageId, if any. */
async function storedDuplicate(c: AppendCollections, draft: MessageDraft, session: Session): Promise<Appended | null> {
  if (draft.clientMessageId === null) return null;
  const keyed = { ...draft, clientMessageId: draft.clientMessageId };
  if (!c.sharded) {
    const stored = await messages.findByClientMessageId(c.messages, keyed, session);
    return stored ? { message: stored, created: false } : null;
  }
  const seq = await clientMessageIds.findSeq(c.clientMessageIds, keyed, session);
  if (seq === null) return null;
  const [stored] = await messages.findBySeqs(c.messages, [{ channelId: draft.channelId, seq }], session);
  return stored ? { message: stored, created: false } : null;
}

/** True when a send lost to a concurrent one with the same clientMessageId. */
function isClientMessageIdTaken(error: unknown): boolean {
  if (error instanceof StoreError) return error.kind === 'duplicate' && error.key === 'clientMessageId';
  return isDuplicateOn(error, messages.CLIENT_MESSAGE_ID_INDEX);
}

/** Moves the author's markers (and the marker counts) to their own new message, so one's own messages are never unread. */
async function coverOwnMessage(c: AppendCollections, draft: MessageDraft, seq: number, session: Session): Promise<void> {
  await advanceMarkers(c, draft.channelId, draft.authorId, seq, true, session);
}

/** The body of the append transaction: check, $inc, insert, move the author's markers. */
export async function appendInTransaction(c: AppendCollections, draft: MessageDraft, session: Session): Promise<Appended> {
  const stored = await storedDuplicate(c, draft, session);
  if (stored) return stored;
  const seq = await channels.takeNextSeq(c.channels, draft.channelId, draft.sentAt, session);
  if (seq === null) throw noSuchChannel(draft.channelId);
  const message = await messages.insertMessage(c.messages, draft, seq, session);
  if (c.sharded) {
    await messageIds.add(c.messageIds, draft.id, draft.channelId, seq, session);
    if (draft.clientMessageId !== null) {
      await clientMessageIds.reserve(c.clientMessageIds, { ...draft, clientMessageId: draft.clientMessageId }, seq, session);
    }
  }
  await coverOwnMessage(c, draft, seq, session);
  return { message, created: true };
}

/**
 * After a transaction lost an idempotency race to a concurrent send (its insert hit the
 * clientMessageId index or reservation, and the whole transaction rolled back), the message that won.
 */
export async function winnerOfRace(c: AppendCollections, draft: MessageDraft, error: unknown): Promise<Appended | null> {
  if (!isClientMessageIdTaken(error)) return null;
  return storedDuplicate(c, draft, undefined);
}

/** Appends without a transaction: claims the next free seq by inserting, then moves the channel and the author's markers. */
export async function appendWithoutTransaction(c: AppendCollections, draft: MessageDraft): Promise<Appended> {
  const stored = await storedDuplicate(c, draft, undefined);
  if (stored) return stored;
  const position = await channels.findPosition(c.channels, draft.channelId, undefined);
  if (position === null) throw noSuchChannel(draft.channelId);
  let seq = position.lastSeq + 1;
  for (let claims = 0; claims < MAX_CLAIMS; claims++) {
    const outcome = await claim(c, draft, seq);
    if (outcome === 'stored') {
      await channels.coverStoredMessage(c.channels, draft.channelId, seq, draft.sentAt);
      await coverOwnMessage(c, draft, seq, undefined);
      return { message: { ...draft, mentions: [...draft.mentions], seq }, created: true };
    }
    if (outcome !== 'seq taken') return outcome;
    // Another sender took seq; the log (not the channel's lastSeq, which may lag it) says what is free.
    seq = Math.max(seq, await messages.findLatestSeq(c.messages, draft.channelId)) + 1;
  }
  throw new StoreError('unavailable', `channel ${draft.channelId} is too busy to take a seq`);
}

/** One attempt to store the draft at seq: stored, seq taken, or the message a concurrent retry stored first. */
async function claim(c: AppendCollections, draft: MessageDraft, seq: number): Promise<'stored' | 'seq taken' | Appended> {
  for (let attempt = 0; ; attempt++) {
    try {
      await messages.insertMessage(c.messages, draft, seq, undefined);
      return 'stored';
    } catch (error) {
      if (isConnectionError(error) && attempt < MAX_TRANSIENT_RETRIES) continue;
      if (!isDuplicateKey(error)) throw error;
      // After a broken connection the duplicate may be this very message, stored by the earlier attempt.
      if (attempt > 0 && (await messages.findByIds(c.messages, [draft.id])).length > 0) return 'stored';
      if (isDuplicateOn(error, messages.SEQ_INDEX)) return 'seq taken';
      const winner = await storedDuplicate(c, draft, undefined);
      if (winner) return winner;
      throw error;
    }
  }
}
