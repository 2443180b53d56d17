// What the clients record while the run goes on: every operation, every event, every session,
// with times on the shared clock (bench/lib/clock.ts). The checker reads these and the store.

/** One send, from its first attempt until it was acknowledged (or given up at the end). */
export interface SendRecord {
  clientMessageId: string;
  channel: number;
  author: string;
  text: string;
  mentions: string[];
  mentionsChannel: boolean;
  firstAt: number;
  /** When the attempt that was acknowledged started, and when its answer came. */
  ackedAttemptAt: number | null;
  ackAt: number | null;
  seq: number | null;
  id: string | null;
  attempts: number;
  /** How each attempt that failed failed: network, timeout, or an error code. */
  failures: string[];
  /** A refusal that retrying cannot help (an unexpected code): the send was given up. */
  refused: string | null;
}

/** One WebSocket connection of a client, to one server. */
export interface SessionRecord {
  server: number;
  openedAt: number;
  /** When connection_ack came (null: never). */
  readyAt: number | null;
  endedAt: number | null;
  /** Why it ended: a close code, an error, idle, or the end of the run. */
  end: string;
}

/** A messageAdded delivery: seq, when it arrived, in which session, the message's id. */
export type Delivery = [seq: number, at: number, session: number, id: string];

export interface ListenerHistory {
  name: string;
  user: string;
  channel: number;
  /** The afterSeq of its first subscription: it must get every message after it. */
  startAfterSeq: number;
  slow: number;
  sessions: SessionRecord[];
  deliveries: Delivery[];
  errors: string[];
  /** It had every message up to the channel's last seq when the run ended. */
  caughtUp: boolean;
}

/**
 * A viewerEvents event: its kind (m: MessageAddedEvent, r: ChannelReadEvent, o: anything else),
 * the channel, the message's seq (0 when none), the channel's badge in the event, when, session.
 */
export type DeviceEvent = [kind: 'm' | 'r' | 'o', channel: number, seq: number, unread: number, mention: number, lastReadSeq: number, at: number, session: number];

/** Messages a device read through the history query to fill a gap after reconnecting. */
export interface GapFill {
  channel: number;
  afterSeq: number;
  seqs: number[];
  at: number;
  session: number;
}

export interface MarkRecord {
  channel: number;
  throughSeq: number;
  at: number;
  doneAt: number | null;
  /** The read marker the answer showed (null: no answer). */
  lastReadSeq: number | null;
  outcome: string;
}

export interface Badge {
  channel: number;
  unread: number;
  mention: number;
  lastReadSeq: number;
}

export interface DeviceHistory {
  name: string;
  user: string;
  deviceId: string;
  channels: number[];
  slow: number;
  sessions: SessionRecord[];
  events: DeviceEvent[];
  fills: GapFill[];
  marks: MarkRecord[];
  /** The badges the API gave at the end of the run (readers only). */
  finalBadges: Badge[] | null;
  errors: string[];
  caughtUp: boolean;
}

/**
 * A presence subject's online periods: its devices connected at onlineAt, all closed at goneAt;
 * none again until backAt (the next period, or the end of the run).
 */
export interface SubjectHistory {
  user: string;
  periods: { onlineAt: number; goneAt: number | null; backAt: number | null }[];
}

/** A watcher's view: (subject, status, when, from an event or a query, session). */
export type PresenceObservation = [user: string, status: string, at: number, source: 'event' | 'query', session: number];

export interface WatcherHistory {
  name: string;
  user: string;
  sessions: SessionRecord[];
  observations: PresenceObservation[];
  errors: string[];
}

/** Everything one client process recorded. */
export interface ClientHistory {
  role: string;
  sends: SendRecord[];
  listeners: ListenerHistory[];
  devices: DeviceHistory[];
  subjects: SubjectHistory[];
  watchers: WatcherHistory[];
}
