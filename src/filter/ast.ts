// The typed syntax tree of a metadata filter: what parseFilter produces and what compileFilter and
// evaluateFilter consume. Types and limits only; imports nothing.
// Semantics of every node are documented in docs/filters.md and are identical in SQL and TypeScript.

/** A value a filter can test a field for equality against. */
export type Scalar = string | number | boolean | null;

/** A value a range operator can order against: same-type comparison only. */
export type Comparable = string | number | boolean;

/**
 * A field path: the keys walked from the metadata object to the field, e.g. `['author', 'name']`
 * for `'author.name'`. Parsed segments are non-empty and never contain `.`.
 */
export type FieldPath = readonly string[];

export type EqualityOperator = 'eq' | 'ne';
export type RangeOperator = 'gt' | 'gte' | 'lt' | 'lte';
export type CompareOperator = EqualityOperator | RangeOperator;

/** `$and` (or a filter object with several keys); no children means "match everything". */
export interface AndNode {
  readonly kind: 'and';
  readonly children: readonly FilterNode[];
}

/** `$or`; no children means "match nothing" (parseFilter never produces it). */
export interface OrNode {
  readonly kind: 'or';
  readonly children: readonly FilterNode[];
}

/** `$not`, top-level or field-level: exact negation, so a missing field satisfies `$not` of anything on it. */
export interface NotNode {
  readonly kind: 'not';
  readonly child: FilterNode;
}

/**
 * `$eq` / `$ne` against a scalar, or `$gt` / `$gte` / `$lt` / `$lte` against a comparable
 * (a range node whose value is null matches nothing).
 */
export interface CompareNode {
  readonly kind: 'compare';
  readonly path: FieldPath;
  readonly op: CompareOperator;
  readonly value: Scalar;
}

/** `$in` (negate false) or `$nin` (negate true): equality against any of `values`. */
export interface InNode {
  readonly kind: 'in';
  readonly path: FieldPath;
  readonly values: readonly Scalar[];
  readonly negate: boolean;
}

/** `$exists`: whether the path resolves to a value (a null value exists). */
export interface ExistsNode {
  readonly kind: 'exists';
  readonly path: FieldPath;
  readonly exists: boolean;
}

export type FilterNode = AndNode | OrNode | NotNode | CompareNode | InNode | ExistsNode;

/** Bounds that keep a hostile or accidental filter from exhausting the stack, the SQL compiler or SQLite. */
export const filterLimits = {
  /** Nesting of objects and arrays in the filter input, counting the root object as 1. */
  maxDepth: 32,
  /** AST nodes produced, in all. */
  maxNodes: 1_000,
  /** Values listed in all `$in` / `$nin` arrays together (each becomes up to two SQL parameters). */
  maxInValues: 10_000,
  /** Characters in one dotted field path. */
  maxPathLength: 1_024,
} as const;

/**
 * Keys a path may have and still step into arrays. Stored metadata nests at most 16 levels (the limit
 * in src/schema.ts), so a longer path reaches no stored value at all; not stepping into arrays on such
 * paths keeps the compiled SQL within SQLite's expression-depth limit. evaluateFilter applies the same bound.
 */
export const maxArrayPathKeys = 16;

/** The filter that matches every record: what `{}` parses to. */
export const matchAll: AndNode = { kind: 'and', children: [] };
