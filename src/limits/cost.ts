// What an operation costs, counted before it runs: each field once per time it would be resolved.
// A list field's selection counts once per item the list may hold: a connection's edges as many as
// its page asks (first/last, the variables' values or defaults, the default page when neither is
// given), a list argument's items (presence(userIds), _entities(representations)), a bounded list
// its bound, introspection lists what this schema holds on average; never more than the field's
// declared bound (`listSize`), since a longer page or list is refused, not run. Fragments are
// expanded (each spread counts its fragment again) and each is counted once per page it is spread
// under, so the count is linear in the document's size however the fragments nest.
import {
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValueNode,
  getNamedType,
  getNullableType,
  getOperationAST,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isObjectType,
  isEnumType,
  isAbstractType,
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  type FieldNode,
} from 'graphql';
import type { Limits } from '../config.ts';

/** The bounds a field declares on its list (in its extensions): `{ listSize: (limits) => n }`. */
export type ListSize = (limits: Limits) => number;

type Variables = Readonly<Record<string, unknown>> | null | undefined;

/** GraphQL's Int is 32 bits. */
const INT_MAX = 2 ** 31 - 1;

/** Items an introspection list holds per parent, on average over this schema: computed once. */
const introspectionSizes = new WeakMap<GraphQLSchema, Map<string, number>>();

function introspectionSizesOf(schema: GraphQLSchema): Map<string, number> {
  const known = introspectionSizes.get(schema);
  if (known) return known;
  const types = Object.values(schema.getTypeMap());
  const directives = schema.getDirectives();
  let fields = 0;
  let fieldArgs = 0;
  let interfaces = 0;
  let possibleTypes = 0;
  let enumValues = 0;
  let inputFields = 0;
  for (const type of types) {
    if (isObjectType(type) || isInterfaceType(type)) {
      const own = Object.values(type.getFields());
      fields += own.length;
      for (const field of own) fieldArgs += field.args.length;
      interfaces += type.getInterfaces().length;
    }
    if (isAbstractType(type)) possibleTypes += schema.getPossibleTypes(type).length;
    if (isEnumType(type)) enumValues += type.getValues().length;
    if (isInputObjectType(type)) inputFields += Object.keys(type.getFields()).length;
  }
  const perType = (total: number) => Math.max(1, Math.ceil(total / types.length));
  const sizes = new Map([
    ['__Schema.types', types.length],
    ['__Schema.directives', directives.length],
    ['__Type.fields', perType(fields)],
    ['__Type.interfaces', perType(interfaces)],
    ['__Type.possibleTypes', perType(possibleTypes)],
    ['__Type.enumValues', perType(enumValues)],
    ['__Type.inputFields', perType(inputFields)],
    ['__Field.args', Math.max(1, Math.ceil(fieldArgs / Math.max(1, fields)))],
    ['__Directive.args', Math.max(1, Math.ceil(directives.reduce((sum, d) => sum + d.args.length, 0) / Math.max(1, directives.length)))],
  ]);
  introspectionSizes.set(schema, sizes);
  return sizes;
}

function fieldOf(schema: GraphQLSchema, parent: GraphQLNamedType | undefined, name: string): GraphQLField<unknown, unknown> | undefined {
  if (parent === schema.getQueryType()) {
    if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
    if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
  }
  return parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[name] : undefined;
}

/**
 * How many field resolutions the operation chosen by `operationName` may take, at most. Unknown
 * fields and fragments (which validation refuses) count as leaves.
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Variables,
  limits: Limits,
): number {
  const operation = getOperationAST(document, operationName);
  if (!operation) return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const variableDefaults = new Map<string, ValueNode>();
  for (const definition of operation.variableDefinitions ?? []) {
    if (definition.defaultValue) variableDefaults.set(definition.variable.name.value, definition.defaultValue);
  }
  const listSizes = introspectionSizesOf(schema);
  const counted = new Map<string, number>();

  /** A literal as written, or a variable's value (its default when not given). */
  function valueOf(node: ValueNode | undefined): { literal: ValueNode } | { json: unknown } {
    if (!node || node.kind !== Kind.VARIABLE) return { literal: node ?? { kind: Kind.NULL } };
    const name = node.name.value;
    const value = variables?.[name];
    if (value !== undefined) return { json: value };
    const fallback = variableDefaults.get(name);
    return fallback ? valueOf(fallback) : { json: null };
  }

  /** An Int argument's value; undefined when absent, or not an Int (coercion or validation refuses it). */
  function integerOf(node: ValueNode | undefined): number | undefined {
    const value = valueOf(node);
    const number = 'json' in value ? value.json : value.literal.kind === Kind.INT ? Number(value.literal.value) : undefined;
    return typeof number === 'number' && Number.isInteger(number) && Math.abs(number) <= INT_MAX ? Math.max(0, number) : undefined;
  }

  function lengthOf(node: ValueNode | undefined): number {
    const value = valueOf(node);
    if ('json' in value) return Array.isArray(value.json) ? value.json.length : value.json === null ? 0 : 1;
    if (value.literal.kind === Kind.LIST) return value.literal.values.length;
    return value.literal.kind === Kind.NULL ? 0 : 1; // a single value stands for a list of one
  }

  /** The most items a field declares its list (or its connection's edges) may hold; a longer one is refused, never run. */
  function boundOf(definition: GraphQLField<unknown, unknown>): number {
    const declared = definition.extensions?.listSize as ListSize | undefined;
    return declared ? declared(limits) : Number.POSITIVE_INFINITY;
  }

  /** The page a connection field asks for: first or last, the default page when neither. */
  function pageOf(field: FieldNode): number {
    let page: number | undefined;
    for (const argument of field.arguments ?? []) {
      if (argument.name.value !== 'first' && argument.name.value !== 'last') continue;
      const asked = integerOf(argument.value);
      if (asked !== undefined) page = Math.max(page ?? 0, asked);
    }
    return page ?? limits.pageDefault;
  }

  /** How many times a field's selection runs per time the field is resolved. */
  function itemsOf(field: FieldNode, definition: GraphQLField<unknown, unknown>, parent: GraphQLNamedType, page: number | undefined): number {
    if (!isListType(getNullableType(definition.type))) return 1;
    if (page !== undefined) return page;
    const most = boundOf(definition);
    const listArgument = definition.args.find((argument) => isListType(getNullableType(argument.type)));
    if (listArgument) return Math.min(most, lengthOf(field.arguments?.find((argument) => argument.name.value === listArgument.name)?.value));
    if (most !== Number.POSITIVE_INFINITY) return most;
    return listSizes.get(`${parent.name}.${definition.name}`) ?? limits.pageDefault;
  }

  function fieldCost(field: FieldNode, parent: GraphQLNamedType | undefined, page: number | undefined): number {
    if (!field.selectionSet) return 1;
    const definition = fieldOf(schema, parent, field.name.value);
    if (!definition || !parent) return 1 + selectionCost(field.selectionSet, undefined, undefined);
    const isConnection = definition.args.some((argument) => argument.name === 'first' || argument.name === 'last');
    const items = itemsOf(field, definition, parent, page);
    const itsPage = isConnection ? Math.min(boundOf(definition), pageOf(field)) : undefined;
    return 1 + items * selectionCost(field.selectionSet, getNamedType(definition.type), itsPage);
  }

  function spreadCost(name: string, page: number | undefined): number {
    const key = page === undefined ? name : `${name}@${page}`;
    const known = counted.get(key);
    if (known !== undefined) return known;
    const fragment = fragments.get(name);
    if (!fragment) return 0;
    counted.set(key, 0); // a fragment spreading itself (refused by validation) adds nothing more
    const cost = selectionCost(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value), page);
    counted.set(key, cost);
    return cost;
  }

  /** `page`: the page of the connection this selection set belongs to, which its list fields hold. */
  function selectionCost(selectionSet: SelectionSetNode, type: GraphQLNamedType | undefined, page: number | undefined): number {
    let cost = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) cost += fieldCost(selection, type, page);
      else if (selection.kind === Kind.FRAGMENT_SPREAD) cost += spreadCost(selection.name.value, page);
      else {
        const condition = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : type;
        cost += selectionCost(selection.selectionSet, condition ?? undefined, page);
      }
    }
    return cost;
  }

  return selectionCost(operation.selectionSet, schema.getRootType(operation.operation) ?? undefined, undefined);
}
