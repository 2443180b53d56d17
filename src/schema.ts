// The served schema: every type in resolvers/, as a federation v2 subgraph.
import { builder } from './builder.ts';
import '../resolvers/scalars.ts';
import '../resolvers/node.ts';
import '../resolvers/user.ts';
import '../resolvers/presence.ts';
import '../resolvers/organization.ts';
import '../resolvers/invitation.ts';
import '../resolvers/channel.ts';
import '../resolvers/message.ts';
import '../resolvers/viewer-events.ts';
import '../resolvers/push.ts';
import { resolveEntitiesOneByOne } from '../resolvers/entities.ts';

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});

export const schema = builder.toSubGraphSchema({
  linkUrl: 'https://specs.apollo.dev/federation/v2.6',
  federationDirectives: ['@key', '@shareable'],
});
resolveEntitiesOneByOne(schema);
