// What a new organization is when it is first stored: its creator as the one member, and its
// #general channel, which every member joins.
import { newId } from './ids.ts';
import type { Channel, Organization } from './types.ts';

export function newOrganization(
  name: string,
  at: Date,
  ids: { orgId: string; generalId: string } = { orgId: newId('org'), generalId: newId('ch') },
): { org: Organization; general: Channel } {
  const general: Channel = {
    id: ids.generalId,
    orgId: ids.orgId,
    kind: 'GROUP',
    name: 'general',
    directKey: null,
    lastSeq: 0,
    lastActiveAt: at,
    memberCount: 1,
    createdAt: at,
  };
  const org: Organization = { id: ids.orgId, name, createdAt: at, memberCount: 1, generalChannelId: general.id };
  return { org, general };
}
