// The embedded store's tables: they mirror the MongoDB collections, with the same unique keys.
// Times are integer milliseconds; arrays are JSON text.

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  -- nameKey(name), for @name mentions; indexed by ensureNameKeys (user-names.ts)
  nameKey TEXT,
  displayName TEXT,
  email TEXT,
  lastActiveAt INTEGER
);

CREATE TABLE IF NOT EXISTS organizations (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  createdAt INTEGER NOT NULL,
  memberCount INTEGER NOT NULL,
  generalChannelId TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS org_members (
  orgId TEXT NOT NULL,
  userId TEXT NOT NULL,
  joinedAt INTEGER NOT NULL,
  PRIMARY KEY (orgId, userId)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS org_members_by_user ON org_members (userId, orgId);

CREATE TABLE IF NOT EXISTS invitations (
  id TEXT PRIMARY KEY,
  orgId TEXT NOT NULL,
  inviteeId TEXT NOT NULL,
  inviterId TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('PENDING', 'ACCEPTED', 'DECLINED', 'REVOKED')),
  createdAt INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS invitations_pair ON invitations (inviteeId, orgId);
CREATE INDEX IF NOT EXISTS invitations_pending ON invitations (inviteeId, createdAt) WHERE status = 'PENDING';

CREATE TABLE IF NOT EXISTS channels (
  id TEXT PRIMARY KEY,
  orgId TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('GROUP', 'DIRECT')),
  name TEXT NOT NULL,
  directKey TEXT,
  lastSeq INTEGER NOT NULL,
  lastActiveAt INTEGER NOT NULL,
  memberCount INTEGER NOT NULL,
  createdAt INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS channels_name ON channels (orgId, name) WHERE kind = 'GROUP';
CREATE UNIQUE INDEX IF NOT EXISTS channels_direct_key ON channels (orgId, directKey) WHERE kind = 'DIRECT';

CREATE TABLE IF NOT EXISTS channel_members (
  channelId TEXT NOT NULL,
  userId TEXT NOT NULL,
  lastReadSeq INTEGER NOT NULL,
  lastDeliveredSeq INTEGER NOT NULL,
  joinedAt INTEGER NOT NULL,
  PRIMARY KEY (channelId, userId)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS channel_members_by_user ON channel_members (userId, channelId);
-- Receipts are read from marker_counts: indexes on the markers would only slow every marker move.
DROP INDEX IF EXISTS channel_members_by_read;
DROP INDEX IF EXISTS channel_members_by_delivered;

-- Read receipts without counting members (see ../marker-counts.ts): per channel, how many members'
-- read / delivery marker lies in [seq, seq + span); span 1 is one seq, span BUCKET_SPAN a bucket.
-- Kept in the transaction of every marker move; rows that reach 0 are deleted.
CREATE TABLE IF NOT EXISTS marker_counts (
  channelId TEXT NOT NULL,
  span INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  read INTEGER NOT NULL,
  delivered INTEGER NOT NULL,
  PRIMARY KEY (channelId, span, seq)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS messages (
  id TEXT PRIMARY KEY,
  channelId TEXT NOT NULL,
  seq INTEGER NOT NULL,
  authorId TEXT NOT NULL,
  text TEXT NOT NULL,
  mentions TEXT NOT NULL,
  mentionsChannel INTEGER NOT NULL,
  sentAt INTEGER NOT NULL,
  clientMessageId TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_seq ON messages (channelId, seq);
CREATE UNIQUE INDEX IF NOT EXISTS messages_client_id ON messages (channelId, authorId, clientMessageId)
  WHERE clientMessageId IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_channel_mentions ON messages (channelId, seq) WHERE mentionsChannel = 1;

-- One row per (message, mentioned user): the relational form of the {channelId, mentions, seq} index.
CREATE TABLE IF NOT EXISTS message_mentions (
  channelId TEXT NOT NULL,
  userId TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (channelId, userId, seq)
) WITHOUT ROWID;
-- A message's fan-out counts the unread mentions of thousands of members: the channel's recent
-- mentions, whoever they name, are one range here instead of one lookup per member.
CREATE INDEX IF NOT EXISTS message_mentions_by_seq ON message_mentions (channelId, seq);

CREATE TABLE IF NOT EXISTS devices (
  userId TEXT NOT NULL,
  deviceId TEXT NOT NULL,
  lastSeenAt INTEGER NOT NULL,
  PRIMARY KEY (userId, deviceId)
) WITHOUT ROWID;
`;
