// Query.node: any record by its global id, when the viewer may see it.
import { builder } from '../src/builder.ts';
import { fromGlobalId } from '../src/domain/ids.ts';
import { requireVisibleNode } from '../src/services/access.ts';

builder.queryField('node', (t) =>
  t.node({
    args: { id: t.arg.id({ required: true }) },
    id: async (_root, args, ctx) => {
      const { typename, id } = fromGlobalId(args.id, 'id');
      await requireVisibleNode(ctx, typename, id);
      return { type: typename, id };
    },
  }),
);
