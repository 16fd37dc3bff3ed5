// Arrow values → JSON metadata values: one reader per column, bound to each record batch's Data.
// Imports apache-arrow, src/errors and src/types only. The mapping is documented in docs/arrow.md.
import type { Data, DataType, TimeUnit } from 'apache-arrow';
import { arrow } from '../lazy-require.js';
import { QuiverError } from '../errors.js';
import type { MetadataValue } from '../types.js';

/** Reads row `index` (relative to the bound Data) of one column; `row` is the row number in the source, for messages. */
export type ValueReader = (index: number, row: number) => MetadataValue;

/** Builds a ValueReader for one Data of the column's type. */
export type ReaderFactory = (data: Data) => ValueReader;

/** Structs nested deeper than this are refused (metadata holds at most 16 levels). */
const MAX_STRUCT_DEPTH = 16;

/** Where a value sits, for messages: "row 17, column 'price'" or "row 17, column 'author.name'". */
export function at(row: number, column: string): string {
  return `row ${row}, column '${column}'`;
}

function unsupported(column: string, type: DataType, why: string): QuiverError {
  return new QuiverError(
    'INVALID_ARGUMENT',
    `column '${column}' has Arrow type ${String(type)}, ${why}; leave it out with the metadataColumns option or cast it ` +
      '(see docs/arrow.md for the supported types)',
  );
}

/** A bigint as a number when it is a safe integer; otherwise an error naming where it is. */
export function safeNumber(value: bigint, row: number, column: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new QuiverError(
      'INVALID_METADATA',
      `${at(row, column)} holds ${value}, beyond ±2^53 where JSON numbers lose digits; cast the column to Float64 or Utf8`,
    );
  }
  return Number(value);
}

function finite(value: number, row: number, column: string): number {
  if (!Number.isFinite(value)) {
    throw new QuiverError(
      'INVALID_METADATA',
      `${at(row, column)} is ${value}; metadata numbers must be finite (replace it with null)`,
    );
  }
  return value;
}

const pad = (value: number | bigint, width: number): string => String(value).padStart(width, '0');

/** An ISO 8601 UTC time from a count of `unit` since the epoch, keeping every digit the unit has. */
export function isoTimestamp(value: bigint, unit: TimeUnit): string {
  const perSecond = [1n, 1_000n, 1_000_000n, 1_000_000_000n][unit] ?? 1n;
  let seconds = value / perSecond;
  let fraction = value % perSecond;
  if (fraction < 0n) {
    fraction += perSecond;
    seconds -= 1n;
  }
  const date = new Date(Number(seconds) * 1000);
  if (Number.isNaN(date.getTime())) throw new RangeError(`timestamp ${value} is outside the range of dates`);
  const digits = [0, 3, 6, 9][unit] ?? 0;
  const base = date.toISOString().slice(0, 19);
  return digits === 0 ? `${base}Z` : `${base}.${pad(fraction, digits)}Z`;
}

/** 'YYYY-MM-DD' of a count of days since the epoch. */
function isoDay(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * A reader factory for a column of `type`, or throws INVALID_ARGUMENT naming the column when the
 * type has no metadata mapping. `inList` is true for list elements, which must be scalars.
 */
export function readerFor(type: DataType, column: string, inList = false, depth = 0): ReaderFactory {
  const scalar = scalarReaderFor(type, column);
  if (scalar !== undefined) return scalar;
  if (arrow().DataType.isList(type) || arrow().DataType.isLargeList(type) || arrow().DataType.isFixedSizeList(type)) {
    if (inList) throw unsupported(column, type, 'a list inside a list (metadata arrays hold scalars only)');
    const child = type.children[0];
    if (child === undefined) throw unsupported(column, type, 'a list without an element type');
    const element = readerFor(child.type, column, true, depth + 1);
    const fixed = arrow().DataType.isFixedSizeList(type) ? type.listSize : 0;
    return (data) => {
      const childData = data.children[0]!;
      const readElement = element(childData);
      const offsets = data.valueOffsets as Int32Array | BigInt64Array | undefined;
      return (index, row) => {
        if (!data.getValid(index)) return null;
        // Variable-size lists index their (unsliced) child through offsets; fixed-size lists have
        // their child sliced along with them, so row i starts at i * size.
        const start = fixed > 0 ? index * fixed : Number(offsets![index]);
        const end = fixed > 0 ? start + fixed : Number(offsets![index + 1]);
        const values: (string | number | boolean | null)[] = [];
        for (let j = start; j < end; j++) values.push(readElement(j, row) as string | number | boolean | null);
        return values;
      };
    };
  }
  if (arrow().DataType.isStruct(type)) {
    if (inList) throw unsupported(column, type, 'a struct inside a list (metadata arrays hold scalars only)');
    if (depth >= MAX_STRUCT_DEPTH) throw unsupported(column, type, `nested deeper than ${MAX_STRUCT_DEPTH} levels`);
    const fields = type.children.map((field) => ({
      name: field.name,
      factory: readerFor(field.type, `${column}.${field.name}`, false, depth + 1),
    }));
    return (data) => {
      const children = fields.map((field, i) => ({ name: field.name, read: field.factory(data.children[i]!) }));
      return (index, row) => {
        if (!data.getValid(index)) return null;
        const object: { [key: string]: MetadataValue } = {};
        for (const child of children) object[child.name] = child.read(index, row);
        return object;
      };
    };
  }
  throw unsupported(column, type, 'which has no metadata mapping');
}

/**
 * True for the types whose readers give strings, finite numbers, booleans or null (never an array,
 * an object or a number JSON cannot hold): what metadata accepts as it is.
 */
export function isScalarType(type: DataType): boolean {
  return scalarReaderFor(type, '') !== undefined;
}

/** Readers for the scalar types (also used for list elements), or undefined for other types. */
function scalarReaderFor(type: DataType, column: string): ReaderFactory | undefined {
  if (arrow().DataType.isNull(type)) return () => () => null;
  if (
    arrow().DataType.isBool(type) ||
    arrow().DataType.isUtf8(type) ||
    arrow().DataType.isLargeUtf8(type) ||
    arrow().DataType.isUtf8View(type)
  ) {
    return (data) => {
      const vector = new (arrow().Vector)([data]);
      return (index) => (vector.get(index) as string | boolean | null) ?? null;
    };
  }
  if (arrow().DataType.isInt(type)) {
    return (data) => {
      const vector = new (arrow().Vector)([data]);
      return (index, row) => {
        const value = vector.get(index) as number | bigint | null;
        if (value === null) return null;
        return typeof value === 'bigint' ? safeNumber(value, row, column) : value;
      };
    };
  }
  if (arrow().DataType.isFloat(type)) {
    return (data) => {
      const vector = new (arrow().Vector)([data]);
      return (index, row) => {
        const value = vector.get(index) as number | null;
        return value === null ? null : finite(value, row, column);
      };
    };
  }
  if (arrow().DataType.isDate(type)) {
    return (data) => {
      const values = data.values as Int32Array | BigInt64Array;
      const days = type.unit === arrow().DateUnit.DAY;
      return (index) => {
        if (!data.getValid(index)) return null;
        return days ? isoDay(Number(values[index])) : new Date(Number(values[index])).toISOString();
      };
    };
  }
  if (arrow().DataType.isTimestamp(type)) {
    const unit = type.unit;
    return (data) => {
      const values = data.values as BigInt64Array;
      return (index, row) => {
        if (!data.getValid(index)) return null;
        try {
          return isoTimestamp(values[index]!, unit);
        } catch (error) {
          throw new QuiverError('INVALID_METADATA', `${at(row, column)}: ${(error as Error).message}`, {
            cause: error,
          });
        }
      };
    };
  }
  if (arrow().DataType.isDictionary(type)) {
    const decoded = scalarReaderFor(type.dictionary, column);
    if (decoded === undefined) return undefined;
    return (data) => {
      const vector = new (arrow().Vector)([data]);
      return (index, row) => {
        const value = vector.get(index) as unknown;
        if (value === null || value === undefined) return null;
        if (typeof value === 'bigint') return safeNumber(value, row, column);
        if (typeof value === 'number') return finite(value, row, column);
        if (typeof value === 'string' || typeof value === 'boolean') return value;
        throw unsupported(column, type, 'a dictionary of values without a metadata mapping');
      };
    };
  }
  return undefined;
}

let float16Table: Float32Array | undefined;

/** Every float16 bit pattern as a float32, built on first use (256 KiB). */
export function float16Values(): Float32Array {
  if (float16Table === undefined) {
    float16Table = new Float32Array(65_536);
    for (let bits = 0; bits < 65_536; bits++) float16Table[bits] = arrow().util.uint16ToFloat64(bits);
  }
  return float16Table;
}
