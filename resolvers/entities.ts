// Query._entities (federation): each representation resolves on its own. A malformed one (no
// __typename of an entity, no id, a bad id) gets null with its own BAD_USER_INPUT at its index,
// one the viewer may not see its own NOT_FOUND or FORBIDDEN, and the others resolve as usual.
import { type GraphQLFieldResolver, type GraphQLSchema, isObjectType } from 'graphql';
import type { RequestContext } from '../src/context.ts';
import { AppError } from '../src/errors.ts';
import { listOfAtMost } from './refs.ts';

type Representation = { __typename?: unknown; id?: unknown };

/** Why a representation cannot be resolved, or null when it can be tried. */
function refusalOf(representation: unknown, index: number, schema: GraphQLSchema, entities: ReadonlySet<string>): AppError | null {
  const field = `representations[${index}]`;
  if (typeof representation !== 'object' || representation === null || Array.isArray(representation)) {
    return AppError.badInput(field, `${field} must be an object with __typename and id`);
  }
  const { __typename, id } = representation as Representation;
  if (typeof __typename !== 'string' || !entities.has(__typename) || !isObjectType(schema.getType(__typename))) {
    return AppError.badInput(field, `${field}: ${JSON.stringify(__typename ?? null)} is not an entity of this subgraph`);
  }
  if (typeof id !== 'string') return AppError.badInput(`${field}.id`, `${field} has no id (the key of ${__typename})`);
  return null;
}

/**
 * Wraps the subgraph's _entities resolver (Apollo's, which resolves all representations in one
 * call, so one that throws fails them all) to resolve them one by one, at most
 * limits.entitiesMax per call.
 */
export function resolveEntitiesOneByOne(schema: GraphQLSchema): void {
  const field = schema.getQueryType()?.getFields()._entities;
  const entityType = schema.getType('_Entity');
  const resolveAll = field?.resolve as GraphQLFieldResolver<unknown, RequestContext, { representations: unknown[] }> | undefined;
  if (!field || !resolveAll || !entityType || !('getTypes' in entityType)) throw new Error('the schema has no _entities field to wrap');
  const entities = new Set(entityType.getTypes().map((type) => type.name));
  // What the cost limit counts for the list: never more than are resolved (src/limits/cost.ts).
  Object.assign(field, { extensions: { ...field.extensions, ...listOfAtMost((limits) => limits.entitiesMax) } });
  field.resolve = (source, args: { representations: unknown[] }, ctx: RequestContext, info) => {
    const { representations } = args;
    const max = ctx.deps.config.limits.entitiesMax;
    if (representations.length > max) throw AppError.badInput('representations', `Ask for at most ${max} entities at once`);
    return representations.map((representation, index) => {
      const refused = refusalOf(representation, index, info.schema, entities);
      if (refused) return refused;
      try {
        // A rejected promise, like a returned error, fails only its own index.
        return (resolveAll(source, { representations: [representation] }, ctx, info) as unknown[])[0];
      } catch (error) {
        return error instanceof Error ? error : new Error(String(error));
      }
    });
  };
}
