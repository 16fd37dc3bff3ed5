// Validates a user's filter object (MongoDB-style operators) into the typed AST of ast.ts, raising
// QuiverError('INVALID_FILTER') with the path of the offending part. Imports only src/errors.ts and src/lazy-require.ts (zod).
// The walk is hand-written (zod checks the operands) so depth and size limits are enforced before
// recursing: a hostile filter can neither overflow the stack nor make us allocate without bound.

import { QuiverError } from '../errors.js';
import { lazySchema } from '../lazy-require.js';
import {
  type CompareOperator,
  type FieldPath,
  type FilterNode,
  filterLimits,
  matchAll,
  type RangeOperator,
  type Scalar,
} from './ast.js';

// A lone UTF-16 surrogate cannot be encoded as UTF-8, so SQLite would see a replacement character
// while TypeScript saw the surrogate: reject it rather than let SQL and the evaluator disagree.
const loneSurrogate = /\p{Cs}/u;
// zod 4's number() already rejects NaN and ±Infinity, which JSON cannot hold.
const comparableSchema = lazySchema((z) =>
  z.union([z.number(), z.string().refine((text) => !loneSurrogate.test(text)), z.boolean()]),
);
const scalarSchema = lazySchema((z) => z.union([comparableSchema.schema, z.null()]));
const scalarListSchema = lazySchema((z) => z.array(scalarSchema.schema));

const rangeOperators: Readonly<Record<string, RangeOperator>> = { $gt: 'gt', $gte: 'gte', $lt: 'lt', $lte: 'lte' };
const fieldOperators = ['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$not'];
const logicalOperators = ['$and', '$or', '$not'];

/**
 * Validates `input` into a FilterNode. `{}`, `undefined` and `null` mean "match everything".
 *
 * @example
 * parseFilter({ lang: 'en', year: { $gte: 2020 }, $or: [{ draft: false }, { reviewed: { $exists: true } }] });
 * // { kind: 'and', children: [{ kind: 'compare', path: ['lang'], op: 'eq', value: 'en' }, ...] }
 * @throws QuiverError INVALID_FILTER — the message starts with the path of the offending part,
 *   e.g. `filter.$or[1].year.$gte: expected a number, string or boolean, got object`.
 */
export function parseFilter(input: unknown): FilterNode {
  if (input === undefined || input === null) return matchAll;
  return new FilterParser().parseFilterObject(input, 'filter', 1);
}

/**
 * Splits a dotted field name into its path, with the same rules parseFilter applies to filter keys.
 *
 * @example
 * parseFieldPath('author.name'); // ['author', 'name']
 * @throws QuiverError INVALID_FILTER for an empty name, an empty segment (`'a..b'`), a name starting
 *   with `$`, a NUL character, a lone UTF-16 surrogate, or a name longer than filterLimits.maxPathLength.
 */
export function parseFieldPath(field: string, at = 'field'): FieldPath {
  const where = `field ${JSON.stringify(field.length > 80 ? `${field.slice(0, 80)}…` : field)}`;
  if (field.length === 0) {
    throw invalid(at, 'a field name is empty; name the metadata field to test, e.g. { lang: "en" }');
  }
  if (field.length > filterLimits.maxPathLength) {
    throw invalid(
      at,
      `the field name is ${field.length} characters long; the limit is ${filterLimits.maxPathLength}; use shorter metadata keys`,
    );
  }
  if (field.startsWith('$')) {
    throw invalid(at, `${where} starts with "$", which is reserved for operators; rename the metadata key`);
  }
  if (loneSurrogate.test(field)) {
    throw invalid(at, `${where} contains an unpaired UTF-16 surrogate; use well-formed Unicode keys`);
  }
  if (field.includes('\u0000')) {
    throw invalid(at, `${where} contains a NUL character, which SQLite's JSON paths cannot address; rename the key`);
  }
  const segments = field.split('.');
  if (segments.some((segment) => segment.length === 0)) {
    throw invalid(
      at,
      `${where} has an empty path segment; dotted paths look like "author.name" (no leading, trailing or double dots)`,
    );
  }
  return segments;
}

function invalid(at: string, message: string): QuiverError {
  return new QuiverError('INVALID_FILTER', `${at}: ${message}`);
}

/** `filter.year`, `filter.$or[1]`, `filter["odd key"]`: a location a user can find in their own filter. */
function keyLocation(at: string, key: string): string {
  return /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(key) ? `${at}.${key}` : `${at}[${JSON.stringify(key)}]`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && loneSurrogate.test(value)) return 'a string with an unpaired UTF-16 surrogate';
  if (typeof value === 'object' && !isPlainObject(value)) return `a ${value.constructor?.name ?? 'non-plain'} object`;
  return typeof value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function isOperatorObject(value: Record<string, unknown>): boolean {
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((key) => key.startsWith('$'));
}

function andOf(children: FilterNode[]): FilterNode {
  return children.length === 1 ? children[0]! : { kind: 'and', children };
}

/** One parse: counts nodes and `$in` values across the whole filter. */
class FilterParser {
  #nodes = 0;
  #inValues = 0;

  parseFilterObject(value: unknown, at: string, depth: number): FilterNode {
    this.#enter(at, depth);
    if (!isPlainObject(value)) {
      throw invalid(at, `expected a filter object like { lang: "en" }, got ${describe(value)}`);
    }
    const children: FilterNode[] = [];
    for (const key of Object.keys(value)) {
      const operand = value[key];
      const location = keyLocation(at, key);
      if (key === '$and' || key === '$or') {
        children.push(this.#parseLogical(key, operand, location, depth));
      } else if (key === '$not') {
        children.push(this.#node({ kind: 'not', child: this.parseFilterObject(operand, location, depth + 1) }, at));
      } else if (key.startsWith('$')) {
        throw invalid(
          location,
          fieldOperators.includes(key)
            ? `${key} applies to a field; write { fieldName: { ${key}: … } }`
            : `unknown operator ${key}; top-level operators are ${logicalOperators.join(', ')}, field operators are ${fieldOperators.join(', ')}`,
        );
      } else {
        children.push(this.#parseCondition(parseFieldPath(key, location), operand, location, depth + 1));
      }
    }
    return children.length === 0 ? matchAll : andOf(children);
  }

  #parseLogical(key: '$and' | '$or', operand: unknown, at: string, depth: number): FilterNode {
    if (!Array.isArray(operand) || operand.length === 0) {
      throw invalid(
        at,
        `expected a non-empty array of filter objects, got ${Array.isArray(operand) ? 'an empty array' : describe(operand)}; e.g. { ${key}: [{ lang: "en" }, { year: 2020 }] }`,
      );
    }
    this.#enter(at, depth + 1);
    const children = operand.map((child, index) => this.parseFilterObject(child, `${at}[${index}]`, depth + 2));
    return this.#node({ kind: key === '$and' ? 'and' : 'or', children }, at);
  }

  /** The value of a field key: a scalar (equality shorthand) or an operator object. */
  #parseCondition(path: FieldPath, operand: unknown, at: string, depth: number): FilterNode {
    if (isPlainObject(operand)) {
      this.#enter(at, depth);
      if (!isOperatorObject(operand)) {
        const keys = Object.keys(operand);
        throw invalid(
          at,
          keys.length === 0
            ? 'an empty object matches nothing useful; to test that the field is present use { $exists: true }'
            : `expected a value or an operator object like { $gte: 2020 }, got an object with key ${JSON.stringify(keys.find((key) => !key.startsWith('$')))}; match nested fields with a dotted path such as "author.name"`,
        );
      }
      return andOf(Object.keys(operand).map((op) => this.#parseOperator(path, op, operand[op], at, depth)));
    }
    if (Array.isArray(operand)) {
      throw invalid(
        at,
        'expected a value or an operator object, got an array; to match any of several values use { $in: [...] }',
      );
    }
    return this.#compare(path, 'eq', operand, at);
  }

  #parseOperator(path: FieldPath, op: string, operand: unknown, fieldAt: string, depth: number): FilterNode {
    const at = `${fieldAt}.${op}`;
    switch (op) {
      case '$eq':
        return this.#compare(path, 'eq', operand, at);
      case '$ne':
        return this.#compare(path, 'ne', operand, at);
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte':
        return this.#compare(path, rangeOperators[op]!, operand, at);
      case '$in':
      case '$nin':
        return this.#in(path, op === '$nin', operand, at);
      case '$exists':
        if (typeof operand !== 'boolean') {
          throw invalid(at, `expected true or false, got ${describe(operand)}; e.g. { $exists: true }`);
        }
        return this.#node({ kind: 'exists', path, exists: operand }, at);
      case '$not':
        if (!isPlainObject(operand) || !isOperatorObject(operand)) {
          throw invalid(
            at,
            `expected an operator object like { $not: { $gt: 5 } }, got ${isPlainObject(operand) ? 'an object without operators' : describe(operand)}; to test inequality use { $ne: value }`,
          );
        }
        return this.#node({ kind: 'not', child: this.#parseCondition(path, operand, at, depth + 1) }, at);
      case '$and':
      case '$or':
        throw invalid(
          at,
          `${op} combines whole filters; write { ${op}: [{ field: … }, { field: … }] } at filter level`,
        );
      default:
        throw invalid(at, `unknown operator ${op}; field operators are ${fieldOperators.join(', ')}`);
    }
  }

  #compare(path: FieldPath, op: CompareOperator, operand: unknown, at: string): FilterNode {
    if (op === 'eq' || op === 'ne') {
      if (!scalarSchema.safeParse(operand).success) {
        throw invalid(
          at,
          `expected a string, finite number, boolean or null, got ${describe(operand)}; objects and arrays cannot be compared, use dotted paths or $in`,
        );
      }
    } else if (!comparableSchema.safeParse(operand).success) {
      throw invalid(
        at,
        `expected a number, string or boolean, got ${describe(operand)}; range operators order values of one type, e.g. { $gte: 2020 }`,
      );
    }
    return this.#node({ kind: 'compare', path, op, value: operand as Scalar }, at);
  }

  #in(path: FieldPath, negate: boolean, operand: unknown, at: string): FilterNode {
    if (!Array.isArray(operand)) {
      throw invalid(at, `expected an array of values, got ${describe(operand)}; e.g. { $in: ["en", "fr"] }`);
    }
    this.#inValues += operand.length;
    if (this.#inValues > filterLimits.maxInValues) {
      throw invalid(
        at,
        `the filter lists more than ${filterLimits.maxInValues} $in/$nin values in all; split the query or filter on a coarser field`,
      );
    }
    const result = scalarListSchema.safeParse(operand);
    if (!result.success) {
      const index = result.error.issues[0]?.path[0];
      const bad = typeof index === 'number' ? operand[index] : operand;
      throw invalid(
        typeof index === 'number' ? `${at}[${index}]` : at,
        `expected a string, finite number, boolean or null, got ${describe(bad)}; list scalar values only`,
      );
    }
    return this.#node({ kind: 'in', path, values: result.data, negate }, at);
  }

  #enter(at: string, depth: number): void {
    if (depth > filterLimits.maxDepth) {
      throw invalid(
        at,
        `the filter nests deeper than ${filterLimits.maxDepth} levels; flatten it (a chain of $and/$or can usually be one array)`,
      );
    }
  }

  #node<Node extends FilterNode>(node: Node, at: string): Node {
    this.#nodes += 1;
    if (this.#nodes > filterLimits.maxNodes) {
      throw invalid(
        at,
        `the filter has more than ${filterLimits.maxNodes} conditions; use $in for long lists of values`,
      );
    }
    return node;
  }
}
