// The filter suite end to end on a slice of the siftsmall fixture: every selectivity is measured
// against exact filtered ground truth, answers are never short, and the report is written.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runFilters } from '../../bench/harness/filters.js';
import { tempDirectory } from '../helpers/fixtures.js';

it('measures filtered recall and latency at every selectivity', async () => {
  const out = tempDirectory('quiver-bench-filters-');
  try {
    const { results, files } = await runFilters({
      datasets: [join(import.meta.dirname, '..', 'fixtures', 'siftsmall')],
      out: out.path,
      queries: 10,
      limit: 3000,
      passes: 1,
      cacheDir: join(out.path, 'cache'),
      progress: false,
      quiet: true,
    });
    const [dataset] = results.datasets;
    expect(dataset?.cases.map((row) => row.name)).toEqual(['none (100%)', '50%', '10%', '1%', '0.1%']);
    for (const row of dataset!.cases) {
      expect(row.shortAnswers).toBe(0);
      // 3,000 vectors, default ef: the same bar as the filtered recall tests.
      expect(row.recallAt10).toBeGreaterThanOrEqual(0.95);
      expect(row.p50Ms).toBeGreaterThan(0);
    }
    expect(dataset!.cases[3]!.matches).toBe(30); // 1% of 3,000
    expect(files.every((file) => existsSync(file))).toBe(true);
    expect(readFileSync(files[1]!, 'utf8')).toMatch(/\| 0\.1% \| 3 \|/);
  } finally {
    out.cleanup();
  }
});
