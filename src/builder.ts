// The Pothos SchemaBuilder and its plugins; it defines no types (resolvers/ do).
import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import DirectivesPlugin from '@pothos/plugin-directives';
import FederationPlugin from '@pothos/plugin-federation';
import RelayPlugin from '@pothos/plugin-relay';
import type { RequestContext } from './context.ts';
import { fromGlobalId, type NodeTypename, toGlobalId } from './domain/ids.ts';

export interface SchemaTypes {
  Context: RequestContext;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    ID: { Input: string; Output: string };
  };
  DefaultFieldNullability: false;
  DefaultEdgesNullability: { list: false; items: false };
  DefaultNodeNullability: false;
}

export const builder = new SchemaBuilder<SchemaTypes>({
  plugins: [RelayPlugin, DataloaderPlugin, DirectivesPlugin, FederationPlugin],
  defaultFieldNullability: false,
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: false, // resolvers/node.ts defines node(id), with authorization
    nodesQueryOptions: false,
    edgesFieldOptions: { nullable: { list: false, items: false } },
    nodeFieldOptions: { nullable: false },
    // Pagination value types: another subgraph paging the same entities may define them too.
    pageInfoTypeOptions: { shareable: true },
    defaultConnectionTypeOptions: { shareable: true },
    defaultEdgeTypeOptions: { shareable: true },
    // Global ids are ours (src/domain/ids.ts), so a malformed one is a clear BAD_USER_INPUT.
    encodeGlobalID: (typename, id) => toGlobalId(typename as NodeTypename, String(id)),
    decodeGlobalID: (globalID) => fromGlobalId(globalID, 'id'),
  },
});
