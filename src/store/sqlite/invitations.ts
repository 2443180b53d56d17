// The invitations table's queries: one row per (invitee, organization), found by id or, while
// pending, by invitee (the partial invitations_pending index).
import type { Invitation, InvitationStatus } from '../../domain/types.ts';
import { type InvitationRow, toInvitation } from './rows.ts';
import type { Sql } from './sql.ts';

/** Inside a unit: stores the invitation as pending, or reopens a revoked one; else returns the pair's invitation as it is. */
export function open(sql: Sql, invitation: Invitation): { invitation: Invitation; opened: boolean } {
  const { id, orgId, inviteeId, inviterId, createdAt } = invitation;
  const written = sql.get<InvitationRow>(
    `INSERT INTO invitations (id, orgId, inviteeId, inviterId, status, createdAt) VALUES (?, ?, ?, ?, 'PENDING', ?)
     ON CONFLICT (inviteeId, orgId) DO UPDATE SET status = 'PENDING', inviterId = excluded.inviterId, createdAt = excluded.createdAt
       WHERE invitations.status = 'REVOKED'
     RETURNING *`,
    id, orgId, inviteeId, inviterId, createdAt.getTime(),
  );
  if (written) return { invitation: toInvitation(written), opened: true };
  const stored = sql.get<InvitationRow>('SELECT * FROM invitations WHERE inviteeId = ? AND orgId = ?', inviteeId, orgId);
  return { invitation: toInvitation(stored!), opened: false };
}

export function findByIds(sql: Sql, ids: readonly string[]): Invitation[] {
  return sql.all<InvitationRow>('SELECT i.* FROM json_each(?) k JOIN invitations i ON i.id = k.value', JSON.stringify(ids)).map(toInvitation);
}

export function findPendingOfUser(sql: Sql, userId: string, limit: number): Invitation[] {
  return sql.all<InvitationRow>(
    `SELECT * FROM invitations WHERE inviteeId = ? AND status = 'PENDING' ORDER BY createdAt DESC, id DESC LIMIT ?`,
    userId, limit,
  ).map(toInvitation);
}

/** Moves the invitation to `to` from one of `from`; null when its status is none of them. */
export function changeStatus(sql: Sql, id: string, from: readonly InvitationStatus[], to: InvitationStatus): Invitation | null {
  const row = sql.get<InvitationRow>(
    'UPDATE invitations SET status = ? WHERE id = ? AND status IN (SELECT value FROM json_each(?)) RETURNING *',
    to, id, JSON.stringify(from),
  );
  return row ? toInvitation(row) : null;
}
