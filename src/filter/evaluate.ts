// The plain-TypeScript reference for filter semantics: evaluateFilter must accept exactly the records
// the SQL of compile.ts selects (the property tests hold them together). Imports nothing from the engine.
// Values are JSON values: paths walk plain objects only, and an array matches when any element does.

import type { Comparable, CompareOperator, FieldPath, FilterNode, Scalar } from './ast.js';

const missing: unique symbol = Symbol('missing');
type Resolved = unknown | typeof missing;

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
      return (resolve(metadata, node.path) !== missing) === node.exists;
    case 'in': {
      const value = resolve(metadata, node.path);
      const any = node.values.some((operand) => equals(value, operand));
      return node.negate ? !any : any;
    }
    case 'compare': {
      const value = resolve(metadata, node.path);
      if (node.op === 'eq') return equals(value, node.value);
      if (node.op === 'ne') return !equals(value, node.value);
      if (node.value === null) return false;
      return orders(value, node.op, node.value);
    }
  }
}

/** Walks plain-object keys; any other step (an array, a scalar, an absent key) makes the field missing. */
function resolve(metadata: Record<string, unknown>, path: FieldPath): Resolved {
  let current: unknown = metadata;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return missing;
    if (!Object.hasOwn(current, key)) return missing;
    current = (current as Record<string, unknown>)[key];
    // JSON cannot hold undefined: a key set to undefined is dropped when stored, so it is missing.
    if (current === undefined) return missing;
  }
  return current;
}

/** `$eq`: same type and value, or an array with such an element; null also matches a missing field. */
function equals(value: Resolved, operand: Scalar): boolean {
  if (operand === null && value === missing) return true;
  const same = (candidate: unknown): boolean => candidate === operand;
  return same(value) || (Array.isArray(value) && value.some(same));
}

/** Range operators: the value (or an array element) has the operand's type and orders as asked. */
function orders(value: Resolved, op: Exclude<CompareOperator, 'eq' | 'ne'>, operand: Comparable): boolean {
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
