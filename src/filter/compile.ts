// Compiles a FilterNode into one parameterised SQLite boolean expression over a JSON metadata column,
// and owns the JSON-path quoting that expression indexes must share. Imports only src/errors.ts.
// Invariant: values are always bound parameters; paths are SQL literals built only by jsonPathLiteralOf,
// because SQLite matches an expression index only against the identical expression with a literal path.

import { QuiverError } from '../errors.js';
import {
  type Comparable,
  type CompareOperator,
  type FieldPath,
  type FilterNode,
  type InNode,
  maxArrayPathKeys,
  type Scalar,
} from './ast.js';

export interface CompileOptions {
  /** The column holding the metadata JSON: trusted code, `name` or `table.name`, never user input. */
  readonly metadataColumn: string;
}

export interface CompiledFilter {
  /** A boolean expression: 1 for matching rows, 0 or NULL for the rest; use it inside WHERE. */
  readonly sql: string;
  /** Positional parameters for the `?` placeholders of `sql`, in order. */
  readonly params: unknown[];
}

/** The two expressions to index for a declared field, character for character what compileFilter emits. */
export interface IndexExpressions {
  /** `json_extract(<column>, '<path>')`: serves `$eq`, `$in` and ranges on scalar values. */
  readonly value: string;
  /** `json_type(<column>, '<path>')`: serves the array branch, `null`, `$exists`, so ORs stay indexed. */
  readonly type: string;
}

// Names of json_each's own columns: a bare metadata column with one of these names would be
// ambiguous inside the array-element subquery, so such a column must be written `table.column`.
const jsonEachColumns = new Set([
  'element',
  'key',
  'value',
  'type',
  'atom',
  'id',
  'parent',
  'fullkey',
  'path',
  'json',
  'root',
]);
const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;

type ValueKind = 'number' | 'string' | 'boolean';

// json_type names per kind. JSON true/false extract as the integers 1/0, so the type test is what keeps
// `true` from equalling `1`, and the text test keeps the string '[1]' from equalling an extracted array.
const typeTest: Readonly<Record<ValueKind, string>> = {
  number: "IN ('integer', 'real')",
  string: "= 'text'",
  boolean: "IN ('true', 'false')",
};

const sqlOperator: Readonly<Record<CompareOperator, string>> = {
  eq: '=',
  ne: '=', // compiled as NOT of equality
  gt: '>',
  gte: '>=',
  lt: '<',
  lte: '<=',
};

/**
 * The SQLite JSON path of a field: `$` then each key JSON-quoted, so keys may hold dots, quotes,
 * brackets, `$`, spaces, control characters or any Unicode (SQLite 3.45+ decodes escapes in quoted keys).
 *
 * @example
 * jsonPathOf(['author', 'name']); // '$."author"."name"'
 */
export function jsonPathOf(path: FieldPath): string {
  // SQLite ends a quoted key at an escaped NUL ("\u0000" would match the key "\u0000x"), so NUL is refused.
  if (path.length === 0 || path.some((segment) => segment.length === 0 || segment.includes('\u0000'))) {
    throw new QuiverError(
      'INVALID_FILTER',
      `a field path needs one or more non-empty keys without NUL characters, got ${JSON.stringify(path)}`,
    );
  }
  // JSON.stringify escapes `"`, `\`, every control character and lone surrogates, so the quoted key
  // ends exactly at its closing quote and the path holds no raw NUL that would cut SQLite's C string.
  return `$${path.map((segment) => `.${JSON.stringify(segment)}`).join('')}`;
}

/**
 * The JSON path of a field as a SQL string literal: the only way a path enters compiled SQL.
 *
 * @example
 * jsonPathLiteralOf(["it's"]); // `'$."it''s"'`
 */
export function jsonPathLiteralOf(path: FieldPath): string {
  // Inside a SQL '…' literal only the single quote is special; doubling it is SQL's one escape.
  return `'${jsonPathOf(path).replaceAll("'", "''")}'`;
}

/**
 * The exact index expressions for a declared field. Create both, leading with the collection column:
 * `CREATE INDEX … ON records(collection_id, <value>)` and `… ON records(collection_id, <type>)`.
 *
 * @example
 * indexExpressionsOf(['year'], { metadataColumn: 'metadata' });
 * // { value: `json_extract(metadata, '$."year"')`, type: `json_type(metadata, '$."year"')` }
 */
export function indexExpressionsOf(path: FieldPath, options: CompileOptions): IndexExpressions {
  const column = checkedColumn(options.metadataColumn);
  const literal = jsonPathLiteralOf(path);
  return { value: `json_extract(${column}, ${literal})`, type: `json_type(${column}, ${literal})` };
}

/**
 * The dotted paths a filter reads (parsed keys never contain `.`, so joining is lossless).
 *
 * @example
 * fieldsOf(parseFilter({ year: { $gte: 2020 }, $or: [{ 'author.name': 'Ann' }] })); // Set { 'year', 'author.name' }
 */
export function fieldsOf(node: FilterNode): Set<string> {
  const fields = new Set<string>();
  const visit = (current: FilterNode): void => {
    switch (current.kind) {
      case 'and':
      case 'or':
        for (const child of current.children) visit(child);
        return;
      case 'not':
        visit(current.child);
        return;
      default:
        fields.add(current.path.join('.'));
    }
  };
  visit(node);
  return fields;
}

/**
 * Compiles a filter into a SQL boolean expression and its parameters.
 *
 * @example
 * const { sql, params } = compileFilter(parseFilter({ year: { $gte: 2020 } }), { metadataColumn: 'metadata' });
 * db.prepare(`SELECT label FROM records WHERE collection_id = ? AND (${sql})`).all(collectionId, ...params);
 * @throws QuiverError INVALID_ARGUMENT when `metadataColumn` is not a plain identifier.
 */
export function compileFilter(node: FilterNode, options: CompileOptions): CompiledFilter {
  const params: unknown[] = [];
  const sql = new FilterCompiler(checkedColumn(options.metadataColumn), params).compile(node);
  return { sql, params };
}

function checkedColumn(column: string): string {
  const parts = column.split('.');
  const valid =
    parts.length <= 2 &&
    parts.every((part) => identifier.test(part)) &&
    (parts.length === 2 || !jsonEachColumns.has(column.toLowerCase()));
  if (!valid) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `metadataColumn ${JSON.stringify(column)} must be a plain identifier (or table.column when it is named like a json_each column)`,
    );
  }
  return column;
}

function kindOf(value: Comparable): ValueKind {
  return typeof value === 'number' ? 'number' : typeof value === 'string' ? 'string' : 'boolean';
}

/** Where a leaf condition looks: a JSON text expression and a path of object keys inside it. */
interface Location {
  readonly document: string;
  readonly path: FieldPath;
}

/** A condition on the values at one location (never true for a missing value). */
type Leaf = (location: Location) => string;

class FilterCompiler {
  readonly #column: string;
  readonly #params: unknown[];

  constructor(column: string, params: unknown[]) {
    this.#column = column;
    this.#params = params;
  }

  compile(node: FilterNode): string {
    switch (node.kind) {
      case 'and':
        return node.children.length === 0
          ? '1'
          : balanced(
              node.children.map((child) => this.compile(child)),
              'AND',
            );
      case 'or':
        return node.children.length === 0
          ? '0'
          : balanced(
              node.children.map((child) => this.compile(child)),
              'OR',
            );
      case 'not':
        return negation(this.compile(node.child));
      case 'exists':
        return node.exists ? this.#exists(node.path) : this.#missing(node.path);
      case 'in':
        return node.negate ? negation(this.#anyOf(node)) : this.#anyOf(node);
      case 'compare':
        if (node.op === 'ne') return negation(this.#compare(node.path, 'eq', node.value));
        return this.#compare(node.path, node.op, node.value);
    }
  }

  #compare(path: FieldPath, op: CompareOperator, value: Scalar): string {
    if (value === null) return op === 'eq' ? this.#anyOf({ kind: 'in', path, values: [null], negate: false }) : '0';
    const kind = kindOf(value);
    const operator = sqlOperator[op];
    // The scalar term is written exactly `json_extract(col, '<path>') <op> <value> AND json_type(…) …` so
    // an expression index on the first part serves it; the array term is served by the json_type index.
    return this.#anyValue(path, (location) => {
      const scalar = `(${this.#extract(location)} ${operator} ${this.#bind(value)} AND ${this.#type(location)} ${typeTest[kind]})`;
      const element = `element.type ${typeTest[kind]} AND element.value ${operator} ${this.#bind(value)}`;
      return `(${scalar} OR ${this.#arrayHas(location, element)})`;
    });
  }

  /** Equality against any listed value, grouped per type so each group is one indexable IN list. */
  #anyOf(node: InNode): string {
    if (node.values.length === 0) return '0';
    const groups = new Map<ValueKind, Comparable[]>();
    let hasNull = false;
    for (const value of node.values) {
      if (value === null) {
        hasNull = true;
        continue;
      }
      const kind = kindOf(value);
      const group = groups.get(kind) ?? [];
      group.push(value);
      groups.set(kind, group);
    }
    const present = this.#anyValue(node.path, (location) => {
      // Placeholders are bound in the order they appear in the text: every scalar term, then the element terms.
      const scalarTerms = [...groups].map(
        ([kind, values]) =>
          `(${this.#extract(location)} IN (${this.#bindAll(values)}) AND ${this.#type(location)} ${typeTest[kind]})`,
      );
      const elementTerms = [...groups].map(
        ([kind, values]) => `(element.type ${typeTest[kind]} AND element.value IN (${this.#bindAll(values)}))`,
      );
      if (hasNull) {
        // json_type is SQL NULL for a missing path and 'null' for JSON null.
        scalarTerms.push(`${this.#type(location)} = 'null'`);
        elementTerms.push(`element.type = 'null'`);
      }
      return `(${[...scalarTerms, this.#arrayHas(location, elementTerms.join(' OR '))].join(' OR ')})`;
    });
    // A missing field equals null (as in MongoDB).
    return hasNull ? `(${present} OR ${this.#missing(node.path)})` : present;
  }

  /** True when the path reaches at least one value (a JSON null counts). */
  #exists(path: FieldPath): string {
    return this.#anyValue(path, (location) => `${this.#type(location)} IS NOT NULL`);
  }

  /** True when the path reaches no value at all. */
  #missing(path: FieldPath): string {
    // One key: the indexable form. Longer paths may also reach values through arrays on the way.
    if (path.length === 1) return `(${this.#type({ document: this.#column, path })} IS NULL)`;
    return negation(this.#exists(path));
  }

  /**
   * True when some value at `path` satisfies `leaf`. A path steps into every object element of an array
   * it meets before a key (one level of array per key), so values are reached two ways: the plain walk
   * through objects, written exactly as the field indexes are, and — only when some proper prefix of the
   * path holds an array — a chain of json_each steps that enters arrays. The chain also covers the plain
   * walk; the guards merely spare it for records it cannot add to.
   */
  #anyValue(path: FieldPath, leaf: Leaf): string {
    const direct = leaf({ document: this.#column, path });
    if (path.length === 1 || path.length > maxArrayPathKeys) return direct;
    const guard = path
      .slice(0, -1)
      .map((_, index) => `${this.#type({ document: this.#column, path: path.slice(0, index + 1) })} = 'array'`)
      .join(' OR ');
    // A value reached by the plain walk means no prefix holds an array (chain = direct), so the second
    // term also asks for `json_type(col, '<path>') IS NULL`: that keeps it searchable in the field's type
    // index, and SQLite can answer the whole OR from the two indexes of a declared dotted field.
    const unreached = `${this.#type({ document: this.#column, path })} IS NULL`;
    return `(${direct} OR (${unreached} AND (${guard}) AND ${this.#chain(this.#column, path, 0, leaf)}))`;
  }

  /**
   * The objects reached after `path[0..step)` are `document` (or its object elements); step through
   * `path[step]` into its value, or each object element when that value is an array, down to the last key.
   */
  #chain(document: string, path: FieldPath, step: number, leaf: Leaf): string {
    const key = path[step]!;
    if (step === path.length - 1) return leaf({ document, path: [key] });
    const here: Location = { document, path: [key] };
    const literal = jsonPathLiteralOf(here.path);
    const alias = `step${step}`;
    // An array's own elements; any other value as a one-element array (json_each then yields it once).
    const values = `CASE WHEN ${this.#type(here)} = 'array' THEN ${document} -> ${literal} ELSE '[' || (${document} -> ${literal}) || ']' END`;
    return `EXISTS (SELECT 1 FROM json_each(${values}) AS ${alias} WHERE ${alias}.type = 'object' AND ${this.#chain(`${alias}.value`, path, step + 1, leaf)})`;
  }

  /** True when the value at `location` is an array with an element satisfying `condition` (over `element.type/value`). */
  #arrayHas(location: Location, condition: string): string {
    return `(${this.#type(location)} = 'array' AND EXISTS (SELECT 1 FROM json_each(${location.document}, ${jsonPathLiteralOf(location.path)}) AS element WHERE ${condition}))`;
  }

  #extract(location: Location): string {
    return `json_extract(${location.document}, ${jsonPathLiteralOf(location.path)})`;
  }

  #type(location: Location): string {
    return `json_type(${location.document}, ${jsonPathLiteralOf(location.path)})`;
  }

  #bindAll(values: readonly Comparable[]): string {
    return values.map((value) => this.#bind(value)).join(', ');
  }

  /**
   * Binds one value and returns its placeholder. Numbers travel as JSON text parsed by SQLite's own
   * JSON reader, exactly as the stored metadata was: binding the JS double instead would make
   * 2^53 < |n| < 2^63 disagree (SQLite keeps "47065759321143870" as that exact int64, not the double).
   * Booleans bind as 1/0 (what json_extract yields for true/false); strings bind as themselves.
   */
  #bind(value: Comparable): string {
    if (typeof value === 'number') {
      this.#params.push(JSON.stringify(value));
      return "json_extract(?, '$')";
    }
    this.#params.push(typeof value === 'boolean' ? (value ? 1 : 0) : value);
    return '?';
  }
}

/**
 * Joins terms as a balanced tree: SQLite refuses expression trees deeper than 1000, and a flat chain of
 * 1,000 ORs is that deep. Its planner flattens nested ANDs (and ORs) again, so indexes still apply.
 */
function balanced(terms: readonly string[], operator: 'AND' | 'OR'): string {
  if (terms.length === 1) return terms[0]!;
  const middle = Math.ceil(terms.length / 2);
  return `(${balanced(terms.slice(0, middle), operator)} ${operator} ${balanced(terms.slice(middle), operator)})`;
}

/**
 * Exact negation. Sub-expressions may be NULL where they mean "no match" (a missing path makes
 * json_extract NULL); AND/OR keep that reading, but NOT NULL is NULL, so map NULL to 0 first.
 */
function negation(sql: string): string {
  return `(NOT IFNULL(${sql}, 0))`;
}
