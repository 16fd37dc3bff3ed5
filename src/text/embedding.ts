// The embedding hook: texts → vectors through the app's function, in batches with a bounded
// number of calls at once, every returned vector checked (length, finiteness) before any write.
// Imports errors.ts, describe.ts, vector-input.ts and types only.
import { describe } from '../describe.js';
import { QuiverError } from '../errors.js';
import type { EmbedFunction } from '../types.js';
import { copyVector } from '../vector-input.js';

/** Texts per embed call and calls at once, unless the collection was opened with others. */
export const DEFAULT_EMBED_BATCH_SIZE = 32;
export const DEFAULT_EMBED_CONCURRENCY = 2;

export interface EmbedSettings {
  readonly embed: EmbedFunction;
  readonly batchSize: number;
  readonly concurrency: number;
}

/**
 * The vectors of `texts`, row after row in one Float32Array of texts.length × dim numbers.
 * `names[i]` names text i in messages ("record 3 (id 'n1')"). A vector of the wrong length is
 * DIMENSION_MISMATCH, a non-finite number NOT_FINITE; a throw or rejection of the app's function
 * is HOOK_FAILED with it as `cause`. Stops starting batches at the first failure. `onEmbedded`
 * hears the number of texts of each batch once its vectors are in.
 */
export async function embedTexts(
  settings: EmbedSettings,
  texts: readonly string[],
  names: readonly string[],
  dim: number,
  collection: string,
  onEmbedded?: (count: number) => void,
): Promise<Float32Array> {
  const vectors = new Float32Array(texts.length * dim);
  const batches = Math.ceil(texts.length / settings.batchSize);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < batches) {
      const batch = next++;
      const start = batch * settings.batchSize;
      const end = Math.min(texts.length, start + settings.batchSize);
      try {
        await embedBatch(settings.embed, texts, names, start, end, vectors, dim, collection);
        onEmbedded?.(end - start);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const workers = Array.from({ length: Math.min(settings.concurrency, batches) }, worker);
  await Promise.all(workers);
  return vectors;
}

async function embedBatch(
  embed: EmbedFunction,
  texts: readonly string[],
  names: readonly string[],
  start: number,
  end: number,
  target: Float32Array,
  dim: number,
  collection: string,
): Promise<void> {
  let result: unknown;
  try {
    result = await embed(texts.slice(start, end));
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new QuiverError(
      'HOOK_FAILED',
      `the embed function failed for ${names[start]}${end - start > 1 ? ` and ${end - start - 1} more` : ''} (${detail}); nothing was written`,
      { cause: error },
    );
  }
  if (!Array.isArray(result) || result.length !== end - start) {
    throw new QuiverError(
      'HOOK_FAILED',
      `the embed function returned ${Array.isArray(result) ? `${result.length} vectors` : describe(result)} for ${end - start} texts; it must return one vector per text, in order`,
    );
  }
  for (let i = start; i < end; i++) {
    copyVector(result[i - start], target, i * dim, dim, `the embedding of ${names[i]}`, collection);
  }
}
