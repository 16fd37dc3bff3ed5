// The full-text settings of a collection: the tokenizer options given at creation, with
// defaults filled in, and their FTS5 `tokenize` argument. Imports only errors.ts.
import { QuiverError } from '../errors.js';

/** How text is split into terms (see docs/text-search.md). */
export type Tokenizer = 'porter' | 'unicode61' | 'trigram';

/** A collection's full-text settings, all defaults filled in; stored with the collection. */
export interface TextSettings {
  /**
   * 'porter' (default): unicode61 words reduced to their English stems ("running" matches "run").
   * 'unicode61': whole words, case-folded. 'trigram': substrings of three or more characters.
   */
  readonly tokenizer: Tokenizer;
  /** Letters with diacritics match their base letter ("café" matches "cafe"); default true. */
  readonly removeDiacritics: boolean;
}

/** The settings `text: true` stands for. */
export const DEFAULT_TEXT_SETTINGS: TextSettings = { tokenizer: 'porter', removeDiacritics: true };

/** Settings from the `text` collection option (true, or an object of optional fields). */
export function textSettingsOf(
  option: true | { tokenizer?: Tokenizer | undefined; removeDiacritics?: boolean | undefined },
): TextSettings {
  if (option === true) return DEFAULT_TEXT_SETTINGS;
  return {
    tokenizer: option.tokenizer ?? DEFAULT_TEXT_SETTINGS.tokenizer,
    removeDiacritics: option.removeDiacritics ?? DEFAULT_TEXT_SETTINGS.removeDiacritics,
  };
}

/** The FTS5 `tokenize` option of a table with these settings (only fixed words: never user text). */
export function fts5Tokenize(settings: TextSettings): string {
  // remove_diacritics 2 also folds letters with several diacritics (unicode61's recommended value);
  // the trigram tokenizer accepts 0 or 1.
  switch (settings.tokenizer) {
    case 'porter':
      return `porter unicode61 remove_diacritics ${settings.removeDiacritics ? 2 : 0}`;
    case 'unicode61':
      return `unicode61 remove_diacritics ${settings.removeDiacritics ? 2 : 0}`;
    case 'trigram':
      return `trigram case_sensitive 0 remove_diacritics ${settings.removeDiacritics ? 1 : 0}`;
  }
}

/** Settings as stored in collections.text_settings. */
export function textSettingsJson(settings: TextSettings): string {
  return JSON.stringify({ tokenizer: settings.tokenizer, removeDiacritics: settings.removeDiacritics });
}

/** Reads collections.text_settings back, checking its shape: damage is CORRUPT. */
export function parseTextSettings(json: string | null, collection: string): TextSettings | undefined {
  if (json === null) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new QuiverError('CORRUPT', `collection '${collection}' has unreadable text settings in quiver.sqlite`, {
      cause: error,
    });
  }
  const { tokenizer, removeDiacritics } = (value ?? {}) as { tokenizer?: unknown; removeDiacritics?: unknown };
  if (
    (tokenizer !== 'porter' && tokenizer !== 'unicode61' && tokenizer !== 'trigram') ||
    typeof removeDiacritics !== 'boolean'
  ) {
    throw new QuiverError('CORRUPT', `collection '${collection}' has invalid text settings ${json} in quiver.sqlite`);
  }
  return { tokenizer, removeDiacritics };
}

/** True when two settings index text the same way. */
export function sameTextSettings(a: TextSettings, b: TextSettings): boolean {
  return a.tokenizer === b.tokenizer && a.removeDiacritics === b.removeDiacritics;
}
