// The store contract, invitations: one per (organization, invitee), moved between statuses only
// from the ones asked, and accepted together with the membership it grants.
import { describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids.ts';
import type { Invitation } from '../../src/domain/types.ts';
import type { Store } from '../../src/store/store.ts';
import { organization, tick, user } from './fixtures.ts';

function invitation(orgId: string, inviterId: string, inviteeId: string): Invitation {
  return { id: newId('inv'), orgId, inviterId, inviteeId, status: 'PENDING', createdAt: tick() };
}

/** Runs inside storeContract's describe; store() is the store under test. */
export function invitationContract(store: () => Store) {
  describe('invitations', () => {
    it('keeps one invitation per organization and invitee: inviting again returns it unchanged', async () => {
      const ann = await user(store(), 'ann');
      const cat = await user(store(), 'cat');
      const bob = await user(store(), 'bob');
      const { org } = await organization(store(), ann.id);
      const first = invitation(org.id, ann.id, bob.id);
      expect(await store().openInvitation(first)).toEqual({ invitation: first, opened: true });
      const again = await store().openInvitation(invitation(org.id, cat.id, bob.id));
      expect(again).toEqual({ invitation: first, opened: false });
      expect(await store().findInvitationsByIds([first.id, 'no-such-invitation'])).toEqual([first]);
    });

    it("lists a user's pending invitations newest first, whether or not the user was ever seen", async () => {
      const ann = await user(store(), 'ann');
      const { org: one } = await organization(store(), ann.id, 'One');
      const { org: two } = await organization(store(), ann.id, 'Two');
      const { org: three } = await organization(store(), ann.id, 'Three');
      const nobody = `u-nobody-${newId('x')}`;
      const older = invitation(one.id, ann.id, nobody);
      const declined = invitation(two.id, ann.id, nobody);
      const newer = invitation(three.id, ann.id, nobody);
      for (const each of [older, declined, newer]) await store().openInvitation(each);
      await store().changeInvitationStatus(declined.id, ['PENDING'], 'DECLINED');
      expect(await store().listPendingInvitationsOfUser(nobody, 10)).toEqual([newer, older]);
      expect(await store().listPendingInvitationsOfUser(nobody, 1)).toEqual([newer]);
      expect(await store().listPendingInvitationsOfUser(ann.id, 10)).toEqual([]);
    });

    it('moves a status only from the ones asked; a declined one is returned as it is when inviting again', async () => {
      const ann = await user(store(), 'ann');
      const bob = await user(store(), 'bob');
      const { org } = await organization(store(), ann.id);
      const pending = invitation(org.id, ann.id, bob.id);
      await store().openInvitation(pending);
      const declined = await store().changeInvitationStatus(pending.id, ['PENDING'], 'DECLINED');
      expect(declined).toEqual({ ...pending, status: 'DECLINED' });
      expect(await store().changeInvitationStatus(pending.id, ['PENDING'], 'REVOKED')).toBeNull();
      expect(await store().changeInvitationStatus('no-such-invitation', ['PENDING'], 'REVOKED')).toBeNull();
      expect(await store().openInvitation(invitation(org.id, ann.id, bob.id))).toEqual({ invitation: declined, opened: false });
    });

    it('reopens a revoked invitation, keeping its id, with the new inviter and time', async () => {
      const ann = await user(store(), 'ann');
      const cat = await user(store(), 'cat');
      const bob = await user(store(), 'bob');
      const { org } = await organization(store(), ann.id);
      const first = invitation(org.id, ann.id, bob.id);
      await store().openInvitation(first);
      expect((await store().changeInvitationStatus(first.id, ['PENDING', 'DECLINED'], 'REVOKED'))?.status).toBe('REVOKED');
      const second = invitation(org.id, cat.id, bob.id);
      const reopened = await store().openInvitation(second);
      expect(reopened).toEqual({ invitation: { ...second, id: first.id }, opened: true });
      expect(await store().listPendingInvitationsOfUser(bob.id, 10)).toEqual([reopened.invitation]);
    });

    it('accepting makes the invitee a member of the organization and #general, once', async () => {
      const ann = await user(store(), 'ann');
      const bob = await user(store(), 'bob');
      const { org, general } = await organization(store(), ann.id);
      const pending = invitation(org.id, ann.id, bob.id);
      await store().openInvitation(pending);
      const accepted = await store().acceptInvitation(pending.id, tick());
      expect(accepted).toEqual({ invitation: { ...pending, status: 'ACCEPTED' }, joined: true });
      expect(await store().acceptInvitation(pending.id, tick())).toEqual({ invitation: { ...pending, status: 'ACCEPTED' }, joined: false });
      expect((await store().findOrganizationsByIds([org.id]))[0]?.memberCount).toBe(2);
      expect((await store().findChannelsByIds([general.id]))[0]?.memberCount).toBe(2);
      expect(await store().findOrgMembers([{ orgId: org.id, userId: bob.id }])).toHaveLength(1);
      expect(await store().findChannelMembers([{ channelId: general.id, userId: bob.id }])).toHaveLength(1);
      expect(await store().listPendingInvitationsOfUser(bob.id, 10)).toEqual([]);
    });

    it('accepts neither a declined nor a revoked invitation, and adds nobody', async () => {
      const ann = await user(store(), 'ann');
      const bob = await user(store(), 'bob');
      const cat = await user(store(), 'cat');
      const { org, general } = await organization(store(), ann.id);
      const toBob = invitation(org.id, ann.id, bob.id);
      const toCat = invitation(org.id, ann.id, cat.id);
      await store().openInvitation(toBob);
      await store().openInvitation(toCat);
      await store().changeInvitationStatus(toBob.id, ['PENDING'], 'DECLINED');
      await store().changeInvitationStatus(toCat.id, ['PENDING'], 'REVOKED');
      expect(await store().acceptInvitation(toBob.id, tick())).toBeNull();
      expect(await store().acceptInvitation(toCat.id, tick())).toBeNull();
      expect(await store().acceptInvitation('no-such-invitation', tick())).toBeNull();
      expect((await store().findOrganizationsByIds([org.id]))[0]?.memberCount).toBe(1);
      expect((await store().findChannelsByIds([general.id]))[0]?.memberCount).toBe(1);
      expect(await store().findOrgMembers([{ orgId: org.id, userId: bob.id }, { orgId: org.id, userId: cat.id }])).toEqual([]);
    });
  });
}
