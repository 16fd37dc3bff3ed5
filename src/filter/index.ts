// The metadata filter language: parse (validate into an AST), compile (to parameterised SQL) and
// evaluate (the TypeScript reference). Internal to QuiverDB; imports only src/errors.ts and src/lazy-require.ts (zod).

export type {
  AndNode,
  Comparable,
  CompareNode,
  CompareOperator,
  EqualityOperator,
  ExistsNode,
  FieldPath,
  FilterNode,
  InNode,
  NotNode,
  OrNode,
  RangeOperator,
  Scalar,
} from './ast.js';
export { filterLimits, matchAll, maxArrayPathKeys } from './ast.js';
export type { CompiledFilter, CompileOptions, IndexExpressions } from './compile.js';
export { compileFilter, fieldsOf, indexExpressionsOf, jsonPathLiteralOf, jsonPathOf } from './compile.js';
export { compareCodePoints, evaluateFilter } from './evaluate.js';
export { parseFieldPath, parseFilter } from './parse.js';
