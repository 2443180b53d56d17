// Documents a hostile client sends over HTTP, against a real server process: each is refused with
// the code that says why, in milliseconds, without holding up another user's query, storing
// nothing, and leaving one info line in the log.
import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppOpenDocument, ChannelMessagesDocument, MeDocument } from '../../operations/generated/graphql.ts';
import { type Member, organizationWith, send } from '../support/world.ts';
import { type Sent, ask, refusals } from '../support/refusals.ts';
import { type ServerProcess, startServerProcess, tempDir } from '../support/server.ts';

const temp = tempDir();
let server: ServerProcess;
let ann: Member;
let bob: Member;
let generalId: string;

beforeAll(async () => {
  server = await startServerProcess({ SQLITE_PATH: `${temp.dir}/chat.db`, SEND_RATE_LIMIT: '10000' });
  const world = await organizationWith(server.url, ['ann', 'bob']);
  ({ ann, bob } = world.users as { ann: Member; bob: Member });
  generalId = world.generalId;
  await send(ann, generalId, 'hello');
});
afterAll(async () => {
  await server?.stop();
  temp.remove();
});

const { headersOf, postChunked, whileOthersQuery, refusedQuickly } = refusals(() => ({ server, sender: ann, other: bob }));

const fragments = (count: number, body: (i: number) => string, on = 'Query') =>
  Array.from({ length: count }, (_, i) => `fragment F${i} on ${on} { ${body(i)} }`).join(' ');

describe('the documents that froze or exhausted the server', () => {
  it('a 0.9 KB chain of fragments each spreading the next twice (2^21 fields)', async () => {
    const document = `query { ...F0 } ${fragments(21, (i) => `...F${i + 1} ...F${i + 1}`)} fragment F21 on Query { __typename }`;
    expect(document.length).toBeLessThan(1000);
    const outcome = await refusedQuickly(ask(document), 400, 'GRAPHQL_VALIDATION_FAILED');
    expect(outcome.body.errors?.[0]?.message).toMatch(/may resolve 2097152 fields .*at most 25000 are allowed/);
  });

  it('11 fragments each spreading all 11', async () => {
    const all = Array.from({ length: 11 }, (_, i) => `...F${i}`).join(' ');
    const outcome = await refusedQuickly(ask(`query { ...F0 } ${fragments(11, () => all)}`), 400, 'GRAPHQL_VALIDATION_FAILED');
    expect(outcome.body.errors?.[0]?.message).toMatch(/Cannot spread fragment "F0" within itself/);
  });

  it('5 fragments of 10 aliases each spreading the next (100,000 fields): aliases count once expanded', async () => {
    const level = (i: number) => Array.from({ length: 10 }, (_, j) => (i < 4 ? `a${j}: lastMessage { channel { ...F${i + 1} } }` : `a${j}: id`)).join(' ');
    const document = `query($c: ID!) { channel(id: $c) { ...F0 } } ${fragments(5, level, 'Channel')}`;
    const outcome = await refusedQuickly(ask(document, { c: generalId }), 400, 'GRAPHQL_VALIDATION_FAILED');
    expect(outcome.body.errors?.map((e) => e.message).join(' ')).toMatch(/Aliases limit of 50 exceeded, found 111110/);
  });

  it('the 182-byte query nesting messages(last: 100) three times (10^6 edges), within the depth limit', async () => {
    const messages = (inner: string) => `messages(last:100) { edges { ${inner} } }`;
    const document = `{ channel(id: "${generalId}") { ${messages(`node { channel { ${messages(`node { channel { ${messages('cursor')} } }`)} } }`)} } }`;
    const outcome = await refusedQuickly(ask(document), 400, 'GRAPHQL_VALIDATION_FAILED');
    expect(outcome.body.errors?.map((e) => e.message)).toEqual([expect.stringMatching(/may resolve 10\d{5} fields/)]);
  });

  it('a 1 MB document of 300,000 fields', async () => {
    const document = `{ me { ${'id '.repeat(300_000)}} }`;
    expect(document.length).toBeGreaterThan(900_000);
    const outcome = await refusedQuickly(ask(document), 400, 'GRAPHQL_PARSE_FAILED');
    expect(outcome.body.errors?.[0]?.message).toBe('Syntax Error: Token limit of 2000 exceeded.');
  });

  it('10,000 nested braces, with or without fields between them', async () => {
    await refusedQuickly(ask(`${'{ me '.repeat(10_000)}${'}'.repeat(10_000)}`), 400, 'GRAPHQL_PARSE_FAILED');
    await refusedQuickly(ask(`${'{'.repeat(10_000)}${'}'.repeat(10_000)}`), 400, 'GRAPHQL_PARSE_FAILED');
  });

  it('the same documents without a token: refused at the header, 401 with a Bearer challenge', async () => {
    const document = `query { ...F0 } ${fragments(21, (i) => `...F${i + 1} ...F${i + 1}`)} fragment F21 on Query { __typename }`;
    await refusedQuickly(ask(document, {}, { token: null }), 401, 'UNAUTHENTICATED');
    await refusedQuickly(ask(`{ ${'__typename '.repeat(50_000)}}`, {}, { token: null }), 401, 'UNAUTHENTICATED');
  });
});

describe('memory', () => {
  it('does not keep the documents it was sent: 400 distinct ones of 900 KB pass through a process with a 256 MB heap', { timeout: 120_000 }, async () => {
    // Kept by their text, they would hold 360 MB or more: past the heap's limit, the process would
    // run out of memory and stop. Handled and dropped, they are garbage the heap's limit makes V8
    // collect, whatever its version's habits (RSS alone says little: Node 24 lets far more garbage
    // pile up than Node 20 before collecting it, and more still on a busy machine).
    const bounded = await startServerProcess({ SQLITE_PATH: `${temp.dir}/memory.db`, NODE_OPTIONS: '--max-old-space-size=256' });
    try {
      for (let i = 0; i < 400; i++) {
        // Refused at the token limit, or valid with a long string: either could be kept by its text.
        const document = i % 2 ? `{ me { ${'id '.repeat(300_000)}} } # ${i}` : `query { channel(id: "${'x'.repeat(900_000)}${i}") { id } }`;
        const response = await fetch(bounded.url, { method: 'POST', headers: headersOf({}), body: JSON.stringify({ query: document }) });
        expect((await response.json()) as { errors?: unknown[] }).toHaveProperty(['errors', 0]);
      }
      expect(bounded.child.exitCode).toBeNull();
      expect((await ann.at(bounded.url).run(MeDocument)).me.name).toBe('ann');
    } finally {
      await bounded.stop();
    }
  });
});

describe('bodies', () => {
  it('refuses a body over 1 MB with 413 before parsing it, whether it says its length or not', async () => {
    const withLength = await refusedQuickly(ask('query($text: String) { me { id } }', { text: 'x'.repeat(2 * 1024 * 1024) }), 413, 'BAD_REQUEST');
    expect(withLength.body.errors?.[0]?.message).toBe('The request body is larger than 1048576 bytes');
    // 1.06 MB in 64 KB chunks without a length, and no end: the server answers at the limit.
    await refusedQuickly(() => postChunked(17), 413, 'BAD_REQUEST');
  });
});

describe('variables that cannot be coerced', () => {
  const PAGE = 'query Page($n: Int, $c: ID!) { channel(id: $c) { messages(last: $n) { edges { cursor } } } }';

  it.each([
    ['an Int of 1.5', { n: 1.5, c: 'x' }, /Int cannot represent non-integer value: 1.5/],
    ['an Int of 2^31', { n: 2 ** 31, c: 'x' }, /non 32-bit signed integer value: 2147483648/],
    ['an object as an ID', { n: 1, c: { id: 'x' } }, /ID cannot represent value/],
    ['a missing required variable', { n: 1 }, /"\$c" of required type "ID!" was not provided/],
  ])('%s: BAD_USER_INPUT, 400 (200 to a client that only accepts application/json)', async (_what, variables, message) => {
    const outcome = await refusedQuickly(ask(PAGE, variables), 400, 'BAD_USER_INPUT');
    expect(outcome.body.errors?.[0]?.message).toMatch(message);
    const json = await whileOthersQuery(ask(PAGE, variables, { headers: { accept: 'application/json' } }));
    expect({ status: json.status, codes: json.codes }).toEqual({ status: 200, codes: ['BAD_USER_INPUT'] });
  });
});

describe('the cost of an operation', () => {
  const nested = (innerDefault = '') => `query Nested($c: ID!, $outer: Int, $inner: Int${innerDefault}) {
    channel(id: $c) { messages(last: $outer) { edges { node { channel { messages(last: $inner) { edges {
      cursor node { id seq text sentAt clientMessageId mentionsChannel author { id name } }
    } } } } } } } }`;
  const runs = async (sent: Sent) => {
    const outcome = await whileOthersQuery(sent);
    expect({ status: outcome.status, codes: outcome.codes }).toEqual({ status: 200, codes: [] });
  };

  it('counts list fields by the page each request asks in its variables, or the default page', async () => {
    // 100 x 100 messages of 11 fields: refused; 10 x 10: runs; the same document again.
    const big = await refusedQuickly(ask(nested(), { c: generalId, outer: 100, inner: 100 }), 400, 'GRAPHQL_VALIDATION_FAILED');
    expect(big.body.errors?.[0]?.message).toMatch(/may resolve 110403 fields/);
    await runs(ask(nested(), { c: generalId, outer: 10, inner: 10 }));
    // Neither page given: 50 x 50 (the default page), 27,703 fields: refused.
    await refusedQuickly(ask(nested(), { c: generalId }), 400, 'GRAPHQL_VALIDATION_FAILED');
    // The inner page from the variable's default, 10: runs.
    await runs(ask(nested(' = 10'), { c: generalId }));
  });

  it('counts a page or a list no longer than the field serves: a longer one is its BAD_USER_INPUT', async () => {
    const fields = 'id seq text sentAt clientMessageId mentionsChannel author { id name }';
    const page = await refusedQuickly(ask(`query($c: ID!) { channel(id: $c) { messages(last: 1000) { edges { node { ${fields} } } } } }`, { c: generalId }), 200, 'BAD_USER_INPUT');
    expect(page.body).toMatchObject({ data: { channel: null }, errors: [{ message: 'last must be from 0 to 100' }] });
    const representations = Array.from({ length: 10_000 }, () => ({ __typename: 'Channel', id: generalId }));
    const entities = await refusedQuickly(
      ask('query($r: [_Any!]!) { _entities(representations: $r) { ... on Channel { id name memberCount unreadCount } } }', { r: representations }),
      200,
      'BAD_USER_INPUT',
    );
    expect(entities.body).toMatchObject({ data: null, errors: [{ message: 'Ask for at most 500 entities at once' }] });
  });

  it('lets the app documents and the standard introspection query through, with or without a token', async () => {
    expect((await ann.run(AppOpenDocument, {})).me.organizations.edges[0]?.node.channels.edges[0]?.node.name).toBe('general');
    expect((await ann.run(ChannelMessagesDocument, { channelId: generalId, last: 100 })).channel?.messages.edges).toHaveLength(1);
    const introspection = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true });
    for (const token of [ann.token, null]) {
      const outcome = await whileOthersQuery(ask(introspection, {}, { token }));
      expect({ status: outcome.status, codes: outcome.codes }).toEqual({ status: 200, codes: [] });
      expect(outcome.body.data).toMatchObject({ __schema: { queryType: { name: 'Query' } } });
    }
    await runs(ask('{ _service { sdl } }', {}, { token: null }));
  });

  it('holds introspection to the same limits: a nested one is refused without a token too', async () => {
    let nested = 'name';
    for (let i = 0; i < 6; i++) nested = `fields { type { ofType { ${nested} } } }`;
    await refusedQuickly(ask(`{ __schema { types { ${nested} } } }`, {}, { token: null }), 400, 'GRAPHQL_VALIDATION_FAILED');
  });
});

describe('refused writes', () => {
  it('store nothing: too many aliases, too costly, or variables that cannot be coerced', async () => {
    const ORGANIZATIONS = '{ me { organizations(first: 100) { edges { cursor } } } }';
    type Organizations = { me: { organizations: { edges: unknown[] } } };
    const before = await ann.run<Organizations, unknown>(ORGANIZATIONS);
    const creations = Array.from({ length: 60 }, (_, i) => `a${i}: createOrganization(input: { name: "spam ${i}" }) { id }`).join(' ');
    await refusedQuickly(ask(`mutation { ...M } fragment M on Mutation { ${creations} }`), 400, 'GRAPHQL_VALIDATION_FAILED');
    const costly = `mutation($c: ID!) { sendMessage(input: { channelId: $c, text: "costly" }) {
      channel { messages(last: 100) { edges { node { channel { messages(last: 100) { edges { node { id seq text sentAt author { name } } } } } } } } } } }`;
    await refusedQuickly(ask(costly, { c: generalId }), 400, 'GRAPHQL_VALIDATION_FAILED');
    const uncoerced = 'mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, text: $t }) { seq } }';
    await refusedQuickly(ask(uncoerced, { c: generalId, t: 5 }), 400, 'BAD_USER_INPUT');

    const after = await ann.run<Organizations, unknown>(ORGANIZATIONS);
    expect(after.me.organizations.edges).toHaveLength(before.me.organizations.edges.length);
    const messages = await ann.run(ChannelMessagesDocument, { channelId: generalId });
    expect(messages.channel?.messages.edges.map((e) => e.node.text)).toEqual(['hello']);
  });
});

describe('the log', () => {
  it('has one info line per refused request, with its id, operation and codes, and no stack', async () => {
    const garbage = Array.from({ length: 100 }, (_, i) => ({ __typename: 'Channel', id: `garbage-${i}` }));
    const entities = await whileOthersQuery(ask('query ManyBadEntities($r: [_Any!]!) { _entities(representations: $r) { __typename } }', { r: garbage }));
    expect(entities.codes).toHaveLength(100);
    const lines = server
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; msg: string; operationName?: string; requestId?: string; codes?: string[]; errors?: number; err?: unknown });
    const about = lines.filter((line) => line.operationName === 'ManyBadEntities');
    expect(about).toEqual([expect.objectContaining({ level: 30, msg: 'request refused', codes: ['BAD_USER_INPUT'], errors: 100, requestId: expect.any(String) })]);
    // Every refusal above is a client's mistake: none is logged as an error, none with a stack.
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
    expect(lines.filter((line) => line.err !== undefined)).toEqual([]);
    expect(lines.filter((line) => line.msg === 'request refused').length).toBeGreaterThan(20);
  });
});
