// Paging as the Relay connection spec defines it (relay.dev/graphql/connections.htm, "Pagination
// algorithm"): after/before narrow the range, then first/last take from its ends, for every
// combination of the four arguments; each argument is checked the same way in every combination.
// The expected pages come from the spec's algorithm itself, run over the whole list (`spec` below).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes } from '../support/client.ts';
import { type TestServer, startServer } from '../support/server.ts';
import { type Member, type World, channelOf, organizationWith, send } from '../support/world.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ SEND_RATE_LIMIT: '100000' });
});
afterAll(async () => server?.stop());

interface Args {
  first?: number;
  after?: string;
  last?: number;
  before?: string;
}

interface Page<K> {
  keys: K[];
  hasPreviousPage: boolean;
  hasNextPage: boolean;
}

/**
 * The spec's EdgesToReturn, hasPreviousPage and hasNextPage over the whole list (in order), with
 * after/before as positions in it. "Elements prior to after" and "following before" are taken to
 * include the cursor's own element: a page of it exists that way.
 */
function spec<K>(all: K[], args: { first?: number; after?: K; last?: number; before?: K }, defaultSize: number): Page<K> {
  let { first, last } = args;
  // Neither first nor last: a page of the default size, onwards from after if given, else the newest.
  if (first === undefined && last === undefined) {
    if (args.after !== undefined) first = defaultSize;
    else last = defaultSize;
  }
  let edges = all;
  if (args.after !== undefined && edges.includes(args.after)) edges = edges.slice(edges.indexOf(args.after) + 1);
  if (args.before !== undefined && edges.includes(args.before)) edges = edges.slice(0, edges.indexOf(args.before));
  const range = edges;
  if (first !== undefined) edges = edges.slice(0, first);
  if (last !== undefined) edges = edges.slice(Math.max(0, edges.length - last));
  return {
    keys: edges,
    hasPreviousPage: last !== undefined ? range.length > last : args.after !== undefined && all.indexOf(args.after) >= 0,
    hasNextPage: first !== undefined ? range.length > first : args.before !== undefined && all.indexOf(args.before) >= 0,
  };
}

/** Every subset of the argument names, as lists. */
function subsets<N extends string>(names: readonly N[]): N[][] {
  return names.reduce<N[][]>((all, name) => [...all, ...all.map((subset) => [...subset, name])], [[]]);
}

const PAGE_INFO = 'pageInfo { hasPreviousPage hasNextPage startCursor endCursor }';

interface ConnectionResult {
  edges: { cursor: string; node: { key: string | number } }[];
  pageInfo: { hasPreviousPage: boolean; hasNextPage: boolean; startCursor: string | null; endCursor: string | null };
}

describe('Channel.messages', () => {
  const COUNT = 10;
  let world: World;
  let ann: Member;
  /** cursor of seq n (1-based). */
  const cursors: string[] = [];

  const MESSAGES = `query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
    channel(id: $id) { messages(first: $first, after: $after, last: $last, before: $before) {
      edges { cursor node { key: seq } } ${PAGE_INFO} } } }`;

  const messages = (args: Args) => ann.request<{ channel: { messages: ConnectionResult } | null }, Args & { id: string }>(MESSAGES, { id: world.generalId, ...args });

  beforeAll(async () => {
    world = await organizationWith(server.url, ['ann']);
    ann = world.users.ann!;
    for (let i = 1; i <= COUNT; i++) await send(ann, world.generalId, `m${i}`);
    const all = await messages({ first: 100 });
    for (const edge of all.data!.channel!.messages.edges) cursors[Number(edge.node.key)] = edge.cursor;
  });

  const seqs = Array.from({ length: COUNT }, (_, i) => i + 1);
  const values = { first: [0, 2, 4, 20], last: [0, 3, 20], after: [3, 8], before: [8, 3] } as const;

  /** Every combination of the four arguments, with each value above. */
  const cases: { first?: number; after?: number; last?: number; before?: number }[] = [];
  for (const names of subsets(['first', 'after', 'last', 'before'] as const)) {
    let partial: (typeof cases)[number][] = [{}];
    for (const name of names) partial = partial.flatMap((c) => values[name].map((v) => ({ ...c, [name]: v })));
    cases.push(...partial);
  }

  it('answers every combination of first, after, last and before as the spec\'s algorithm does', async () => {
    expect(cases.length).toBeGreaterThan(100);
    for (const c of cases) {
      const args: Args = {
        first: c.first,
        last: c.last,
        after: c.after === undefined ? undefined : cursors[c.after],
        before: c.before === undefined ? undefined : cursors[c.before],
      };
      const result = await messages(args);
      expect(result.errors, JSON.stringify(c)).toBeUndefined();
      const connection = result.data!.channel!.messages;
      const expected = spec(seqs, c, 50);
      expect(
        {
          keys: connection.edges.map((e) => e.node.key),
          hasPreviousPage: connection.pageInfo.hasPreviousPage,
          hasNextPage: connection.pageInfo.hasNextPage,
        },
        JSON.stringify(c),
      ).toEqual(expected);
      expect(connection.pageInfo.startCursor).toBe(connection.edges[0]?.cursor ?? null);
      expect(connection.pageInfo.endCursor).toBe(connection.edges.at(-1)?.cursor ?? null);
    }
  });

  it('takes first from the range before a cursor, and last from the range after one', async () => {
    const firstBefore = await messages({ first: 2, before: cursors[8] });
    expect(firstBefore.data!.channel!.messages.edges.map((e) => e.node.key)).toEqual([1, 2]);
    const lastAfter = await messages({ last: 2, after: cursors[3] });
    expect(lastAfter.data!.channel!.messages.edges.map((e) => e.node.key)).toEqual([9, 10]);
    const between = await messages({ after: cursors[3], before: cursors[8] });
    expect(between.data!.channel!.messages.edges.map((e) => e.node.key)).toEqual([4, 5, 6, 7]);
  });

  const bad = {
    first: [['negative', -1], ['over the maximum of 100', 101]],
    last: [['negative', -1], ['over the maximum of 100', 101]],
    after: [['malformed', 'not a cursor'], ['of another list', 'WyJpIiwiYm9iIl0']],
    before: [['malformed', 'bm90IGEgY3Vyc29y'], ['of another list', 'WyJpIiwiYm9iIl0']],
  } as const;

  for (const field of ['first', 'after', 'last', 'before'] as const) {
    it(`refuses a bad ${field} with BAD_USER_INPUT in every combination, returning no messages`, async () => {
      const others = (['first', 'after', 'last', 'before'] as const).filter((name) => name !== field);
      const valid: Args = { first: 2, after: cursors[2], last: 1, before: cursors[9] };
      for (const [what, value] of bad[field]) {
        for (const names of subsets(others)) {
          const args: Args = Object.fromEntries(names.map((name) => [name, valid[name]]));
          const result = await messages({ ...args, [field]: value });
          const label = `${field} ${what} with ${names.join(', ') || 'nothing else'}`;
          expect(codes(result), label).toEqual(['BAD_USER_INPUT']);
          expect(result.errors![0]!.extensions, label).toMatchObject({ field });
          expect(result.data?.channel ?? null, label).toBeNull();
        }
      }
    });
  }
});

describe('forward-only connections (first, after)', () => {
  let world: World;
  let ann: Member;

  beforeAll(async () => {
    world = await organizationWith(server.url, ['ann', 'bob', 'cat', 'dan', 'eve', 'fay']);
    ann = world.users.ann!;
    const { bob, cat } = world.users;
    for (let i = 0; i < 5; i++) await channelOf(world, ann, `room-${i}`, [bob!, cat!]);
  });

  /** Each connection: its query (the key of a node, a cursor), its largest page. */
  const connections = {
    'Organization.channels': {
      max: 1000,
      query: `query($id: ID!, $first: Int, $after: String) { node(id: $id) { ... on Organization {
        list: channels(first: $first, after: $after) { edges { cursor node { key: id } } ${PAGE_INFO} } } } }`,
      id: () => world.orgId,
    },
    'Organization.members': {
      max: 100,
      query: `query($id: ID!, $first: Int, $after: String) { node(id: $id) { ... on Organization {
        list: members(first: $first, after: $after) { edges { cursor node { key: id } } ${PAGE_INFO} } } } }`,
      id: () => world.orgId,
    },
    'Channel.members': {
      max: 100,
      query: `query($id: ID!, $first: Int, $after: String) { node(id: $id) { ... on Channel {
        list: members(first: $first, after: $after) { edges { cursor node { key: id } } ${PAGE_INFO} } } } }`,
      id: () => world.generalId,
    },
  };

  for (const [name, connection] of Object.entries(connections)) {
    const list = (args: Args) =>
      ann.request<{ node: { list: ConnectionResult } | null }, Args & { id: string }>(connection.query, { id: connection.id(), ...args });

    it(`${name}: first and after as the spec's algorithm does`, async () => {
      const whole = (await list({ first: connection.max })).data!.node!.list;
      const keys = whole.edges.map((e) => e.node.key);
      const cursorOf = new Map(whole.edges.map((e) => [e.node.key, e.cursor]));
      expect(keys.length).toBeGreaterThanOrEqual(6);
      expect(whole.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: false });
      for (const first of [undefined, 0, 2, keys.length, connection.max]) {
        for (const after of [undefined, keys[1], keys.at(-1)]) {
          const result = await list({ first, after: after === undefined ? undefined : cursorOf.get(after) });
          const label = JSON.stringify({ first, after });
          expect(result.errors, label).toBeUndefined();
          const page = result.data!.node!.list;
          // Without first, a page of the default size from the start (or from after).
          const expected = spec(keys, { first: first ?? 50, after }, 50);
          expect({ keys: page.edges.map((e) => e.node.key), ...page.pageInfo }, label).toMatchObject(expected);
        }
      }
    });

    it(`${name}: refuses a bad first or after with BAD_USER_INPUT, with or without the other`, async () => {
      const cases: [Args, string][] = [
        [{ first: -1 }, 'first'],
        [{ first: connection.max + 1 }, 'first'],
        [{ after: 'not a cursor' }, 'after'],
        [{ after: 'WyJtIiwzXQ' }, 'after'], // a message cursor
      ];
      const valid = (await list({ first: 1 })).data!.node!.list.edges[0]!.cursor;
      for (const [args, field] of cases) {
        for (const other of [{}, field === 'first' ? { after: valid } : { first: 2 }]) {
          const result = await list({ ...other, ...args });
          const label = JSON.stringify({ ...other, ...args });
          expect(codes(result), label).toEqual(['BAD_USER_INPUT']);
          expect(result.errors![0]!.extensions, label).toMatchObject({ field });
        }
      }
    });
  }
});
