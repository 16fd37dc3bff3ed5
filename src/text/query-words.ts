// A user's query text as words, and the FTS5 MATCH expression that ORs them. The text is never
// handed to FTS5's query parser as written: every word is a double-quoted string of letters,
// digits and marks only, so quotes, `*`, `^`, `:`, parentheses, NEAR, AND, OR and NOT in the text
// are plain words or separators. Imports only errors.ts.
import { QuiverError } from '../errors.js';

/** Most words a text query may hold (FTS5 builds one term iterator per word). */
export const MAX_QUERY_WORDS = 1024;

/** A word: a run of letters, digits, combining marks and private-use characters (unicode61's token characters). */
const WORD = /[\p{L}\p{N}\p{M}\p{Co}]+/gu;

/** The words of a query text, in order, as written (case and diacritics are folded by the tokenizer). */
export function queryWords(text: string, where: string): string[] {
  const words = text.match(WORD) ?? [];
  if (words.length > MAX_QUERY_WORDS) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `${where} has ${words.length} words; a text query holds at most ${MAX_QUERY_WORDS} (shorten it)`,
    );
  }
  return words;
}

/**
 * The MATCH expression for `words`: any of them (BM25 then ranks records holding more of the rarer
 * ones first). Undefined when there is no word, which matches no record.
 */
export function matchExpression(words: readonly string[]): string | undefined {
  if (words.length === 0) return undefined;
  // A word holds no '"' (see WORD), so quoting it makes it an FTS5 string: a term, never syntax.
  return words.map((word) => `"${word}"`).join(' OR ');
}
