// JSON Schema (the OpenAPI 3.1 dialect) of io-ts codecs, so that the published API description is
// generated from the very codecs every boundary decodes with and cannot drift from them. Codecs
// built with io-ts combinators are walked; the project's own codec factories (decimal strings,
// bounded integers, ids, strict objects) register what their values look like.

import * as t from 'io-ts';

export type JsonSchema = Readonly<Record<string, unknown>>;

const described = new WeakMap<t.Mixed, () => JsonSchema>();

/** Record the schema of a codec whose structure io-ts cannot show (a custom t.Type). */
export const withSchema = <C extends t.Mixed>(codec: C, schema: () => JsonSchema): C => {
  described.set(codec, schema);
  return codec;
};

const objectSchema = (required: t.Props, optional: t.Props, additional: boolean): JsonSchema => ({
  type: 'object',
  ...(Object.keys(required).length === 0 ? {} : { required: Object.keys(required) }),
  properties: Object.fromEntries([...Object.entries(required), ...Object.entries(optional)].map(([key, codec]) => [key, jsonSchemaOf(codec)])),
  ...(additional ? {} : { additionalProperties: false }),
});

/** The JSON Schema of what a codec accepts on the wire (its output type). */
export const jsonSchemaOf = (codec: t.Mixed): JsonSchema => {
  const registered = described.get(codec);
  if (registered !== undefined) return registered();
  const c = codec as unknown as { readonly _tag?: string } & Record<string, unknown>;
  switch (c._tag) {
    case 'StringType':
      return { type: 'string' };
    case 'NumberType':
      return { type: 'number' };
    case 'BooleanType':
      return { type: 'boolean' };
    case 'NullType':
      return { type: 'null' };
    case 'UnknownType':
      return {};
    case 'LiteralType':
      return { const: c.value };
    case 'KeyofType':
      return { enum: Object.keys(c.keys as object) };
    case 'ArrayType':
    case 'ReadonlyArrayType':
      return { type: 'array', items: jsonSchemaOf(c.type as t.Mixed) };
    case 'InterfaceType':
      return objectSchema(c.props as t.Props, {}, true);
    case 'PartialType':
      return objectSchema({}, c.props as t.Props, true);
    case 'ExactType':
    case 'ReadonlyType':
    case 'RefinementType':
      return jsonSchemaOf(c.type as t.Mixed);
    case 'UnionType':
      return { oneOf: (c.types as t.Mixed[]).map(jsonSchemaOf) };
    case 'IntersectionType':
      return { allOf: (c.types as t.Mixed[]).map(jsonSchemaOf) };
    case 'DictionaryType':
      return { type: 'object', additionalProperties: jsonSchemaOf(c.codomain as t.Mixed) };
    default:
      return { description: codec.name };
  }
};

/** A strict object's schema: its required and optional fields, nothing else. */
export const strictObjectSchema = (required: t.Props, optional: t.Props): JsonSchema => objectSchema(required, optional, false);
