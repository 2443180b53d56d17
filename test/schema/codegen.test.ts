// The typed documents in operations/generated/ are what `npm run codegen` makes of operations/
// and schema.graphql today, and operations/ holds every document a client app needs.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generate } from '@graphql-codegen/cli';
import { describe, expect, it } from 'vitest';
import config from '../../codegen.ts';
import * as documents from '../../operations/generated/graphql.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('operations/generated', () => {
  it('is not stale (run `npm run codegen` after changing operations/ or schema.graphql)', async () => {
    // Generated in memory from the same config; the committed files are only read.
    const files = (await generate({ ...config, cwd: root, silent: true }, false)) as { filename: string; content: string }[];
    expect(files.map((f) => f.filename).sort()).toEqual([
      'operations/generated/gql.ts',
      'operations/generated/graphql.ts',
      'operations/generated/index.ts',
    ]);
    for (const file of files) {
      const committed = readFileSync(`${root}${file.filename}`, 'utf8');
      expect(committed === file.content, `${file.filename} is stale: run \`npm run codegen\` and commit it`).toBe(true);
    }
  });

  it('has the documents a client app needs', () => {
    const needed = {
      'app open: organizations and channels with counts': documents.AppOpenDocument,
      'a page of channels': documents.OrganizationChannelsDocument,
      'open a channel: the newest page, and older pages (before)': documents.ChannelMessagesDocument,
      send: documents.SendMessageDocument,
      'mark read': documents.MarkChannelReadDocument,
      acknowledge: documents.AcknowledgeDeliveryDocument,
      'subscription: messageAdded': documents.MessageAddedDocument,
      'subscription: viewerEvents': documents.ViewerEventsDocument,
      'subscription: presenceChanged': documents.PresenceChangedDocument,
    };
    for (const [need, document] of Object.entries(needed)) expect(document?.kind, need).toBe('Document');
    const operation = (d: (typeof needed)[keyof typeof needed]) => d.definitions.find((x) => x.kind === 'OperationDefinition');
    expect(operation(documents.MessageAddedDocument)).toMatchObject({ operation: 'subscription' });
    expect(operation(documents.ViewerEventsDocument)).toMatchObject({ operation: 'subscription' });
    expect(operation(documents.PresenceChangedDocument)).toMatchObject({ operation: 'subscription' });
    expect(JSON.stringify(documents.ChannelMessagesDocument)).toContain('"before"');
  });
});
