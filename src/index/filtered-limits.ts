// Where filtered search switches from an index's restricted search to exact scoring of the
// matches. Shared by the kinds (their restricted searches) and src/filtered-search.ts.

/**
 * Up to this many matching records are searched exactly. Reading and scoring 4,096 vectors costs
 * about as much as an HNSW search that must wade through 0.1%-selective allow-lists, and is exact.
 */
export const EXACT_MATCH_LIMIT = 4096;
/**
 * Beyond the count limit, exact search still wins while it scores at most this many numbers
 * (matches × dim). Measured through query() on mnist-784 (60,000 × 784, p50, 2-core machine under
 * a load average of about 3.5) with these limits changed by hand to force each plan: 10% (6,000
 * matches) exact 1.1 ms on 2 threads, 1.5 ms on 1, against
 * 6.4–7.1 ms for the restricted graph search (ef 203); 20% (12,000 matches, 9.4 million numbers)
 * exact 2.3 ms on 2 threads, 4.1 ms on 1, against 2.0–2.4 ms for the graph (ef 144), so the
 * limit stays here; 50% graph 0.6 ms against exact 3.3 ms.
 */
export const EXACT_WORK_LIMIT = 6_000_000;
/** ... and only for filters this selective: broader ones are what the restricted graph does best. */
export const EXACT_SELECTIVITY_LIMIT = 0.2;
/** The widened HNSW effort never exceeds this (beyond it, exact search is the better tool). */
export const MAX_FILTERED_EF = 4096;
