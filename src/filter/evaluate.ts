// The plain-TypeScript reference for filter semantics: evaluateFilter must accept exactly the records
// the SQL of compile.ts selects (the property tests hold them together). Imports nothing from the engine.
// Values are JSON values: a path reaches every value through objects and arrays of objects, and the
// field matches when any value (or any element of an array value) does.

import {
  type Comparable,
  type CompareOperator,
  type FieldPath,
  type FilterNode,
  maxArrayPathKeys,
  type Scalar,
} from './ast.js';

/**
 * True when `metadata` satisfies the filter.
 *
 * @example
 * evaluateFilter(parseFilter({ tags: 'ai', year: { $gte: 2020 } }), { tags: ['ai', 'db'], year: 2021 }); // true
 */
export function evaluateFilter(node: FilterNode, metadata: Record<string, unknown>): boolean {
  switch (node.kind) {
    case 'and':
      return node.children.every((child) => evaluateFilter(child, metadata));
    case 'or':
      return node.children.some((child) => evaluateFilter(child, metadata));
    case 'not':
      return !evaluateFilter(node.child, metadata);
    case 'exists':
      return resolve(metadata, node.path).length > 0 === node.exists;
    case 'in': {
      const values = resolve(metadata, node.path);
      const any = node.values.some((operand) => equals(values, operand));
      return node.negate ? !any : any;
    }
    case 'compare': {
      const values = resolve(metadata, node.path);
      if (node.op === 'eq') return equals(values, node.value);
      if (node.op === 'ne') return !equals(values, node.value);
      if (node.value === null) return false;
      const operand = node.value;
      const op = node.op;
      return values.some((value) => orders(value, op, operand));
    }
  }
}

/**
 * The values at a path: walks plain-object keys, and before each key steps into every object element
 * of an array met on the way (one level: arrays inside arrays and scalar elements are skipped). A
 * missing key ends that branch. An empty result means the field is missing. Paths longer than
 * maxArrayPathKeys walk objects only (stored metadata is never that deep).
 */
function resolve(metadata: Record<string, unknown>, path: FieldPath): unknown[] {
  const stepsIntoArrays = path.length <= maxArrayPathKeys;
  let current: unknown[] = [metadata];
  for (const key of path) {
    const next: unknown[] = [];
    for (const value of current) {
      for (const object of Array.isArray(value) && stepsIntoArrays ? value : [value]) {
        if (!isPlainObject(object) || !Object.hasOwn(object, key)) continue;
        const child = object[key];
        // JSON cannot hold undefined: a key set to undefined is dropped when stored, so it is missing.
        if (child !== undefined) next.push(child);
      }
    }
    current = next;
  }
  return current;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `$eq`: some value (or an element of an array value) has the operand's type and value; null also matches a missing field. */
function equals(values: readonly unknown[], operand: Scalar): boolean {
  if (operand === null && values.length === 0) return true;
  const same = (candidate: unknown): boolean => candidate === operand;
  return values.some((value) => same(value) || (Array.isArray(value) && value.some(same)));
}

/** Range operators: the value (or an array element) has the operand's type and orders as asked. */
function orders(value: unknown, op: Exclude<CompareOperator, 'eq' | 'ne'>, operand: Comparable): boolean {
  const satisfies = (candidate: unknown): boolean => {
    if (typeof candidate !== typeof operand) return false;
    const order =
      typeof operand === 'string'
        ? compareCodePoints(candidate as string, operand)
        : Number(candidate as number | boolean) - Number(operand);
    if (op === 'gt') return order > 0;
    if (op === 'gte') return order >= 0;
    if (op === 'lt') return order < 0;
    return order <= 0;
  };
  return satisfies(value) || (Array.isArray(value) && value.some(satisfies));
}

/**
 * Orders strings by Unicode code point, as SQLite's BINARY collation orders their UTF-8 bytes. JavaScript's
 * `<` compares UTF-16 units instead, which puts U+E000–U+FFFF after astral characters.
 */
export function compareCodePoints(left: string, right: string): number {
  const length = Math.min(left.length, right.length);
  for (let index = 0; index < length; index += 1) {
    const a = left.charCodeAt(index);
    const b = right.charCodeAt(index);
    if (a !== b) return codePointRank(a) - codePointRank(b);
  }
  return left.length - right.length;
}

// Surrogates (D800–DFFF) stand for code points ≥ 0x10000, above every BMP unit: lift them over E000–FFFF.
function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}
