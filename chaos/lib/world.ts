// The organization a chaos run plays in: users, channels and memberships drawn from the seed and
// written through the Store port before any server starts (as an operator's import would), and
// who does what: senders, listeners, devices that mark read, presence subjects and watchers.
import { mintToken } from '../../bench/lib/graphql.ts';
import { toGlobalId } from '../../src/domain/ids.ts';
import { newOrganization } from '../../src/domain/organizations.ts';
import type { Store } from '../../src/store/store.ts';
import { type Plan, SLOW_CONSUMERS } from './plan.ts';
import type { Random } from './random.ts';

export interface WorldUser {
  id: string;
  /** The global id clients use. */
  gid: string;
  name: string;
  token: string;
}

export interface WorldChannel {
  index: number;
  id: string;
  gid: string;
  name: string;
  /** User ids. */
  members: string[];
}

export interface ListenerRole {
  name: string;
  user: string;
  channel: number;
  /** ms into the load when it starts; 0: before the load, from seq 0. */
  startAt: number;
  /** Index among the slow consumers, or -1. */
  slow: number;
}

export interface DeviceRole {
  name: string;
  user: string;
  deviceId: string;
  channels: number[];
  /** Marks channels read now and then (the two devices of a reader). */
  marks: boolean;
  slow: number;
}

export interface World {
  orgId: string;
  orgGid: string;
  /** #general, where nobody sends, and the channels of the run. */
  general: WorldChannel;
  channels: WorldChannel[];
  users: Record<string, WorldUser>;
  senders: { user: string; channels: number[] }[];
  listeners: ListenerRole[];
  devices: DeviceRole[];
  presence: { subjects: { user: string; devices: number }[]; watchers: string[] };
}

const at = new Date('2026-01-01T00:00:00Z');

/** Draws the world for the plan; tokens are signed with the servers' secret. */
export async function drawWorld(plan: Plan, rng: Random, secret: string): Promise<World> {
  const shape = plan.world;
  const users: Record<string, WorldUser> = {};
  const addUser = async (name: string) => {
    const id = `chaos-${name}`;
    users[id] = { id, gid: toGlobalId('User', id), name, token: await mintToken(secret, id, name) };
    return id;
  };
  const channel = (index: number, name: string): WorldChannel => {
    const id = `ch_chaos_${name}`;
    return { index, id, gid: toGlobalId('Channel', id), name, members: [] };
  };
  const channels = Array.from({ length: shape.channels }, (_, i) => channel(i, `c${i}`));
  const general = channel(-1, 'general');
  const join = (user: string, indexes: number[]) => {
    for (const i of indexes) if (!channels[i]!.members.includes(user)) channels[i]!.members.push(user);
  };
  const someChannels = (count: number) => rng.shuffle(channels.map((c) => c.index)).slice(0, count).sort((a, b) => a - b);

  const senders: World['senders'] = [];
  for (let s = 0; s < shape.senders; s++) {
    // Sender s sends in channels s and s+1: every channel has two senders racing for its seqs.
    const picked = Array.from({ length: shape.channelsPerSender }, (_, k) => (s + k) % shape.channels);
    const user = await addUser(`sender${s}`);
    join(user, picked);
    senders.push({ user, channels: picked });
  }

  const listeners: ListenerRole[] = [];
  for (const c of channels) {
    const user = await addUser(`listener${c.index}`);
    join(user, [c.index]);
    listeners.push({ name: `listen-c${c.index}`, user, channel: c.index, startAt: 0, slow: -1 });
  }
  for (let k = 0; k < shape.lateListeners; k++) {
    const c = rng.int(0, shape.channels - 1);
    const user = await addUser(`late${k}`);
    join(user, [c]);
    listeners.push({ name: `late${k}-c${c}`, user, channel: c, startAt: Math.round(((k + 1) / (shape.lateListeners + 1)) * plan.loadMs), slow: -1 });
  }

  const devices: DeviceRole[] = [];
  for (let v = 0; v < shape.viewers; v++) {
    const user = await addUser(`viewer${v}`);
    const picked = someChannels(shape.channelsPerViewer);
    join(user, picked);
    devices.push({ name: `viewer${v}`, user, deviceId: 'desktop', channels: picked, marks: false, slow: -1 });
  }
  for (let r = 0; r < shape.readers; r++) {
    const user = await addUser(`reader${r}`);
    const picked = someChannels(shape.channelsPerViewer);
    join(user, picked);
    for (const deviceId of ['phone', 'laptop']) devices.push({ name: `reader${r}-${deviceId}`, user, deviceId, channels: picked, marks: true, slow: -1 });
  }
  // The slow consumers: one listener on a channel, one device following several.
  const slowChannel = rng.int(0, shape.channels - 1);
  const slowListener = await addUser('slow0');
  join(slowListener, [slowChannel]);
  listeners.push({ name: `slow0-c${slowChannel}`, user: slowListener, channel: slowChannel, startAt: 0, slow: 0 });
  const slowDevice = await addUser('slow1');
  const slowChannels = someChannels(shape.channelsPerViewer);
  join(slowDevice, slowChannels);
  devices.push({ name: 'slow1', user: slowDevice, deviceId: 'tablet', channels: slowChannels, marks: false, slow: SLOW_CONSUMERS - 1 });

  const subjects: World['presence']['subjects'] = [];
  for (let p = 0; p < shape.presenceSubjects; p++) subjects.push({ user: await addUser(`subject${p}`), devices: 1 + (p % 2) });
  const watchers: string[] = [];
  for (let w = 0; w < shape.presenceWatchers; w++) watchers.push(await addUser(`watcher${w}`));

  const orgId = 'org_chaos';
  return { orgId, orgGid: toGlobalId('Organization', orgId), general, channels, users, senders, listeners, devices, presence: { subjects, watchers } };
}

/** Writes the world's users, organization, channels and memberships through the Store port. */
export async function seedStore(store: Store, world: World): Promise<void> {
  const ids = Object.keys(world.users);
  await store.upsertUsers(ids.map((id) => ({ id, name: world.users[id]!.name, displayName: null, email: null })));
  const { org, general } = newOrganization('chaos', at, { orgId: world.orgId, generalId: world.general.id });
  const [creator, ...others] = ids;
  await store.createOrganization(org, general, creator!);
  for (const id of others) await store.addOrgMember(org.id, id, at);
  world.general.members = ids;
  for (const c of world.channels) {
    await store.createChannel({ ...general, id: c.id, name: c.name, memberCount: c.members.length }, c.members);
  }
}
