// Organizations and their members. Joining an organization also joins its #general channel, in the
// same unit.
import type { Channel, OrgMember, Organization } from '../../domain/types.ts';
import type { OrgMemberKey } from '../store.ts';
import { insertChannel, insertMember } from './channels.ts';
import { type OrgMemberRow, type OrganizationRow, toOrgMember, toOrganization } from './rows.ts';
import type { Sql } from './sql.ts';

/** Inside a unit: the organization, its creator as first member, and its #general. */
export function createOrganization(sql: Sql, org: Organization, general: Channel, creatorId: string): void {
  sql.run(
    'INSERT INTO organizations (id, name, createdAt, memberCount, generalChannelId) VALUES (?, ?, ?, 1, ?)',
    org.id, org.name, org.createdAt.getTime(), general.id,
  );
  sql.run('INSERT INTO org_members (orgId, userId, joinedAt) VALUES (?, ?, ?)', org.id, creatorId, org.createdAt.getTime());
  insertChannel(sql, general, [creatorId]);
}

export function findOrganizationsByIds(sql: Sql, ids: readonly string[]): Organization[] {
  return sql.all<OrganizationRow>('SELECT o.* FROM json_each(?) k JOIN organizations o ON o.id = k.value', JSON.stringify(ids)).map(
    toOrganization,
  );
}

export function findOrgMembers(sql: Sql, keys: readonly OrgMemberKey[]): OrgMember[] {
  return sql.all<OrgMemberRow>(
    `SELECT m.* FROM json_each(?) k JOIN org_members m
     ON m.orgId = json_extract(k.value, '$.orgId') AND m.userId = json_extract(k.value, '$.userId')`,
    JSON.stringify(keys),
  ).map(toOrgMember);
}

export function listOrganizationsOfUser(sql: Sql, userId: string, afterOrgId: string | null, limit: number): Organization[] {
  return sql.all<OrganizationRow>(
    `SELECT o.* FROM org_members m JOIN organizations o ON o.id = m.orgId
     WHERE m.userId = ? AND m.orgId > ? ORDER BY m.orgId LIMIT ?`,
    userId, afterOrgId ?? '', limit,
  ).map(toOrganization);
}

export function listOrgMembers(sql: Sql, orgId: string, afterUserId: string | null, limit: number): OrgMember[] {
  return sql.all<OrgMemberRow>(
    'SELECT * FROM org_members WHERE orgId = ? AND userId > ? ORDER BY userId LIMIT ?',
    orgId, afterUserId ?? '', limit,
  ).map(toOrgMember);
}

/** Inside a unit: adds an organization member, and to #general; false when already one. */
export function insertOrgMember(sql: Sql, orgId: string, userId: string, at: Date): boolean {
  const added = sql.run('INSERT INTO org_members (orgId, userId, joinedAt) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', orgId, userId, at.getTime());
  if (added.changes === 0) return false;
  const org = sql.get<{ generalChannelId: string }>(
    'UPDATE organizations SET memberCount = memberCount + 1 WHERE id = ? RETURNING generalChannelId',
    orgId,
  );
  if (org) insertMember(sql, org.generalChannelId, userId, at);
  return true;
}
