// Argument parsing shared by the `quiver` commands: node:util parseArgs with usage errors (exit 2)
// and checked numbers, names and JSON. Imports node:util and src/errors only.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { QuiverError } from '../errors.js';

/** Bad usage: an unknown option, a missing or malformed argument. Exits with status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type Options = NonNullable<ParseArgsConfig['options']>;

/** Options every command takes. */
export const COMMON_OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  quiet: { type: 'boolean', short: 'q' },
} as const satisfies Options;

export interface Parsed {
  readonly values: Record<string, string | boolean | undefined>;
  readonly positionals: string[];
}

/** Parses `argv` strictly: unknown options and missing values are usage errors. */
export function parse(argv: readonly string[], options: Options): Parsed {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { ...COMMON_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Parsed['values'], positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Exactly `names.length` positionals, named in the message when missing or extra. */
export function positionals(parsed: Parsed, names: readonly string[]): string[] {
  if (parsed.positionals.length < names.length) {
    throw new UsageError(`missing ${names.slice(parsed.positionals.length).join(' and ')}`);
  }
  if (parsed.positionals.length > names.length) {
    throw new UsageError(`unexpected argument '${parsed.positionals[names.length]}'`);
  }
  return parsed.positionals;
}

export function stringOption(parsed: Parsed, name: string): string | undefined {
  const value = parsed.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** An integer option within [min, max], or undefined when absent. */
export function integerOption(parsed: Parsed, name: string, min: number, max: number): number | undefined {
  const text = stringOption(parsed, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} takes an integer from ${min} to ${max}, got '${text}'`);
  }
  return value;
}

/** One of `choices`, or undefined when absent. */
export function choiceOption<T extends string>(parsed: Parsed, name: string, choices: readonly T[]): T | undefined {
  const text = stringOption(parsed, name);
  if (text === undefined) return undefined;
  if (!(choices as readonly string[]).includes(text)) {
    throw new UsageError(`--${name} takes ${choices.join(', ')}, got '${text}'`);
  }
  return text as T;
}

/** A JSON option (a filter, a vector), or undefined when absent. */
export function jsonOption(parsed: Parsed, name: string): unknown {
  const text = stringOption(parsed, name);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`--${name} is not valid JSON (${(error as Error).message}): ${text}`);
  }
}

/** Converts bad-input QuiverErrors raised while checking options (a malformed filter) into usage errors. */
export function asUsage<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof QuiverError && (error.code === 'INVALID_FILTER' || error.code === 'INVALID_ARGUMENT')) {
      throw new UsageError(error.message);
    }
    throw error;
  }
}
