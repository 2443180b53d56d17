// The push part of the store contract (src/store/push-store.ts): run on every store the same way
// as contract.ts (pushStoreContract('sqlite', ...), ...).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids.ts';
import type { PushRegistration, QueuedPush } from '../../src/domain/push.ts';
import type { Store } from '../../src/store/store.ts';
import type { StoreUnderTest } from './contract.ts';
import { draft, groupChannel, organization, tick, user } from './fixtures.ts';

function webPush(userId: string, deviceId: string, endpoint = `https://push.example/${newId('sub')}`): PushRegistration {
  return { id: newId('push'), userId, deviceId, createdAt: tick(), kind: 'WEB_PUSH', endpoint, p256dh: 'BP256', auth: 'auth' };
}

function pusher(userId: string, deviceId: string, pushkey = newId('key')): PushRegistration {
  return { id: newId('push'), userId, deviceId, createdAt: tick(), kind: 'PUSHER', url: 'https://gw.example/_matrix/push/v1/notify', appId: 'app', pushkey };
}

const at = (ms: number) => new Date(Date.UTC(2030, 0, 1) + ms);

export function pushStoreContract(name: string, open: () => Promise<StoreUnderTest>) {
  describe(`push store contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: Store;
    beforeAll(async () => {
      subject = await open();
      store = subject.store;
    });
    afterAll(async () => subject?.dispose());

    describe('registrations', () => {
      it('keeps one registration per device: registering again replaces it', async () => {
        const first = webPush('u-reg-1', 'laptop');
        const second = pusher('u-reg-1', 'laptop');
        const phone = pusher('u-reg-1', 'phone');
        expect(await store.savePushRegistration(first, 10)).toBe(true);
        expect(await store.savePushRegistration(phone, 10)).toBe(true);
        expect(await store.savePushRegistration(second, 10)).toBe(true);
        expect(await store.listPushRegistrations(['u-reg-1'])).toEqual([second, phone].sort((a, b) => a.deviceId.localeCompare(b.deviceId)));
      });

      it('gives a push target to whoever registered it last (a phone now signed in as someone else)', async () => {
        const ann = webPush('u-reg-ann', 'browser', 'https://push.example/shared-endpoint');
        const bob = webPush('u-reg-bob', 'browser', 'https://push.example/shared-endpoint');
        await store.savePushRegistration(ann, 10);
        await store.savePushRegistration(bob, 10);
        expect(await store.listPushRegistrations(['u-reg-ann'])).toEqual([]);
        expect(await store.listPushRegistrations(['u-reg-bob'])).toEqual([bob]);
      });

      it('refuses a device past the limit, changing nothing, but still lets a device register again', async () => {
        const kept = [pusher('u-reg-full', 'a'), pusher('u-reg-full', 'b')];
        for (const registration of kept) expect(await store.savePushRegistration(registration, 2)).toBe(true);
        expect(await store.savePushRegistration(pusher('u-reg-full', 'c'), 2)).toBe(false);
        const again = pusher('u-reg-full', 'b');
        expect(await store.savePushRegistration(again, 2)).toBe(true);
        expect((await store.listPushRegistrations(['u-reg-full'])).map((r) => r.id)).toEqual([kept[0]!.id, again.id]);
      });

      it('removes by device, and by id only while that registration is current', async () => {
        const old = webPush('u-reg-del', 'tablet');
        await store.savePushRegistration(old, 10);
        const replacement = webPush('u-reg-del', 'tablet');
        await store.savePushRegistration(replacement, 10);
        expect(await store.deletePushRegistrationById(old.id)).toBe(false);
        expect(await store.listPushRegistrations(['u-reg-del'])).toEqual([replacement]);
        expect(await store.deletePushRegistration('u-reg-del', 'tablet')).toBe(true);
        expect(await store.deletePushRegistration('u-reg-del', 'tablet')).toBe(false);
        const other = pusher('u-reg-del', 'phone');
        await store.savePushRegistration(other, 10);
        expect(await store.deletePushRegistrationById(other.id)).toBe(true);
        expect(await store.listPushRegistrations(['u-reg-del'])).toEqual([]);
      });
    });

    describe('outbox', () => {
      const queued = (userId: string, channelId: string, seq: number, dueMs: number): QueuedPush => ({ userId, channelId, seq, dueAt: at(dueMs) });

      it('queues with the cursor as one unit, and refuses a stale cursor without queuing anything', async () => {
        const channelId = newId('ch');
        expect(await store.queuePushNotifications(channelId, null, { seq: 3, memberAfter: null }, [queued('u-ob-1', channelId, 2, 1000)])).toBe(true);
        expect(await store.findPushCursors([channelId, 'ch-none'])).toEqual([{ channelId, seq: 3, memberAfter: null }]);
        expect(await store.queuePushNotifications(channelId, null, { seq: 4, memberAfter: null }, [queued('u-ob-2', channelId, 4, 1000)])).toBe(false);
        expect(
          await store.queuePushNotifications(channelId, { seq: 2, memberAfter: null }, { seq: 4, memberAfter: null }, [queued('u-ob-2', channelId, 4, 1000)]),
        ).toBe(false);
        expect(await store.queuePushNotifications(channelId, { seq: 3, memberAfter: null }, { seq: 3, memberAfter: 'u-m' }, [])).toBe(true);
        expect(await store.findPushCursors([channelId])).toEqual([{ channelId, seq: 3, memberAfter: 'u-m' }]);
        const claimed = await store.claimPushNotifications('owner-1', at(5000), at(65_000), 100);
        expect(claimed.filter((e) => e.channelId === channelId)).toEqual([
          { userId: 'u-ob-1', channelId, seq: 2, lastDueAt: at(1000), attempts: 0, delivered: {} },
        ]);
      });

      it('collapses messages for one member and channel into one entry, due when the first was', async () => {
        const channelId = newId('ch');
        await store.queuePushNotifications(channelId, null, { seq: 1, memberAfter: null }, [queued('u-ob-c', channelId, 1, 10_000)]);
        await store.queuePushNotifications(channelId, { seq: 1, memberAfter: null }, { seq: 3, memberAfter: null }, [
          queued('u-ob-c', channelId, 2, 11_000),
          queued('u-ob-c', channelId, 3, 12_000),
        ]);
        expect(await store.claimPushNotifications('owner-early', at(9_999), at(70_000), 100)).toEqual([]);
        const [entry] = await store.claimPushNotifications('owner-c', at(10_000), at(70_000), 100);
        expect(entry).toEqual({ userId: 'u-ob-c', channelId, seq: 3, lastDueAt: at(12_000), attempts: 0, delivered: {} });
      });

      it('lets one owner hold an entry until its lease ends, then another take it over', async () => {
        const channelId = newId('ch');
        await store.queuePushNotifications(channelId, null, { seq: 1, memberAfter: null }, [queued('u-ob-l', channelId, 1, 20_000)]);
        const [a, b] = await Promise.all([
          store.claimPushNotifications('owner-a', at(20_000), at(30_000), 100),
          store.claimPushNotifications('owner-b', at(20_000), at(30_000), 100),
        ]);
        const mine = (claimed: typeof a) => claimed.filter((e) => e.channelId === channelId);
        expect(mine(a).length + mine(b).length).toBe(1);
        expect(mine(await store.claimPushNotifications('owner-c', at(29_999), at(40_000), 100))).toEqual([]);
        const taken = mine(await store.claimPushNotifications('owner-c', at(30_000), at(40_000), 100));
        expect(taken).toHaveLength(1);
        // The first owner's lease is over: what it settles now changes nothing.
        await store.settlePushNotification({ userId: 'u-ob-l', channelId }, mine(a).length ? 'owner-a' : 'owner-b', { seq: 1, delivered: {}, retryAt: null, attempts: 0 });
        expect(mine(await store.claimPushNotifications('owner-d', at(40_000), at(50_000), 100))).toHaveLength(1);
      });

      it('removes a told entry, but keeps one a newer message was queued into while it was held', async () => {
        const told = newId('ch');
        const busy = newId('ch');
        await store.queuePushNotifications(told, null, { seq: 1, memberAfter: null }, [queued('u-ob-s', told, 1, 100_000)]);
        await store.queuePushNotifications(busy, null, { seq: 1, memberAfter: null }, [queued('u-ob-s', busy, 1, 100_000)]);
        await store.claimPushNotifications('owner-s', at(100_000), at(200_000), 100);
        await store.queuePushNotifications(busy, { seq: 1, memberAfter: null }, { seq: 2, memberAfter: null }, [queued('u-ob-s', busy, 2, 150_000)]);
        for (const channelId of [told, busy]) {
          await store.settlePushNotification({ userId: 'u-ob-s', channelId }, 'owner-s', { seq: 1, delivered: { r1: 1 }, retryAt: null, attempts: 0 });
        }
        const mine = (claimed: Awaited<ReturnType<Store['claimPushNotifications']>>) => claimed.filter((e) => e.userId === 'u-ob-s');
        expect(mine(await store.claimPushNotifications('owner-t', at(149_999), at(300_000), 100))).toEqual([]);
        expect(mine(await store.claimPushNotifications('owner-t', at(150_000), at(300_000), 100))).toEqual([
          { userId: 'u-ob-s', channelId: busy, seq: 2, lastDueAt: at(150_000), attempts: 0, delivered: { r1: 1 } },
        ]);
      });

      it('releases an entry to retry at the time given, keeping what was delivered already', async () => {
        const channelId = newId('ch');
        await store.queuePushNotifications(channelId, null, { seq: 1, memberAfter: null }, [queued('u-ob-r', channelId, 1, 400_000)]);
        await store.claimPushNotifications('owner-r', at(400_000), at(500_000), 100);
        await store.settlePushNotification({ userId: 'u-ob-r', channelId }, 'owner-r', { seq: 1, delivered: { ok: 1 }, retryAt: at(410_000), attempts: 1 });
        const mine = (claimed: Awaited<ReturnType<Store['claimPushNotifications']>>) => claimed.filter((e) => e.channelId === channelId);
        expect(mine(await store.claimPushNotifications('owner-r2', at(409_999), at(500_000), 100))).toEqual([]);
        expect(mine(await store.claimPushNotifications('owner-r2', at(410_000), at(500_000), 100))).toEqual([
          { userId: 'u-ob-r', channelId, seq: 1, lastDueAt: at(400_000), attempts: 1, delivered: { ok: 1 } },
        ]);
      });
    });

    describe('log scan', () => {
      it('lists channels active since a time, oldest activity first, in pages', async () => {
        const ann = await user(store, 'ann');
        const { org } = await organization(store, ann.id);
        const since = tick();
        const channels = [groupChannel(org.id, 'scan-a'), groupChannel(org.id, 'scan-b'), groupChannel(org.id, 'scan-c')];
        for (const channel of channels) await store.createChannel(channel, [ann.id]);
        const { message } = await store.appendMessage(draft(channels[0]!.id, ann.id, 'latest'));
        const first = await store.findChannelsActiveSince(since, null, 2);
        expect(first.map((c) => c.id)).toEqual([channels[1]!.id, channels[2]!.id]);
        const last = first.at(-1)!;
        const rest = await store.findChannelsActiveSince(since, { lastActiveAt: last.lastActiveAt, id: last.id }, 10);
        expect(rest.map((c) => [c.id, c.lastSeq])).toEqual([[channels[0]!.id, message.seq]]);
      });

      it('lets one process scan at a time and moves the mark only forward', async () => {
        const first = await store.readPushScanMark();
        const now = first ?? at(1_000_000);
        const mark = await store.claimPushScan('scanner-a', now, new Date(now.getTime() + 10_000));
        expect(mark).toEqual(first ?? now);
        expect(await store.claimPushScan('scanner-b', now, new Date(now.getTime() + 10_000))).toBeNull();
        await store.finishPushScan('scanner-a', new Date(now.getTime() + 5000));
        expect(await store.readPushScanMark()).toEqual(new Date(now.getTime() + 5000));
        expect(await store.claimPushScan('scanner-b', now, new Date(now.getTime() + 10_000))).toEqual(new Date(now.getTime() + 5000));
        await store.finishPushScan('scanner-b', now);
        expect(await store.readPushScanMark()).toEqual(new Date(now.getTime() + 5000));
        await store.finishPushScan('scanner-a', new Date(now.getTime() + 9000));
        expect(await store.readPushScanMark()).toEqual(new Date(now.getTime() + 5000));
      });
    });
  });
}
