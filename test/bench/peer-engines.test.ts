// The optional peer engines: a missing one is refused with the command that installs it (and the
// harness skips it with that reason); an installed one answers a tiny set exactly as brute force
// does (skipped, with the reason printed, where bench/peers is not installed); 'auto' ivfpq settings parse.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lancedb } from '../../bench/contestants/lancedb.js';
import { importPeer, PEERS_INSTALL, resolvePeer } from '../../bench/contestants/peer-engines.js';
import { usearch } from '../../bench/contestants/usearch.js';
import { vectorlite } from '../../bench/contestants/vectorlite.js';
import type { ContestantDefinition } from '../../bench/harness/contestant.js';
import { indexConfigs } from '../../bench/harness/main.js';
import { parseOptions } from '../../bench/harness/options.js';
import { randomVectors } from '../helpers/random.js';

describe('peer engines', () => {
  it('refuses a missing engine with the command that installs it', async () => {
    expect(resolvePeer('quiverdb-no-such-engine')).toBeUndefined();
    await expect(importPeer('quiverdb-no-such-engine')).rejects.toThrow(
      `quiverdb-no-such-engine is not installed; install the peer engines with \`${PEERS_INSTALL}\``,
    );
  });

  it("parses 'auto' nprobe and rerank into the ivfpq sweep", () => {
    const options = parseOptions(['--index', 'ivfpq', '--nprobe', 'auto,8', '--rerank', 'auto']);
    expect(options.nprobe).toEqual(['auto', 8]);
    const [config] = indexConfigs(options);
    expect(config).toMatchObject({
      type: 'ivfpq',
      searches: [
        { nprobe: 'auto', rerank: 'auto' },
        { nprobe: 8, rerank: 'auto' },
      ],
    });
    expect(() => parseOptions(['--nprobe', 'some'])).toThrow(/nprobe/);
  });

  const engines: [ContestantDefinition, string][] = [
    [usearch, 'usearch'],
    [vectorlite, 'vectorlite'],
    [lancedb, '@lancedb/lancedb'],
  ];
  for (const [definition, packageName] of engines) {
    const installed = resolvePeer(packageName) !== undefined;
    if (!installed) console.log(`${definition.name} is not installed (${PEERS_INSTALL}): its answer test is skipped`);
    it.skipIf(!installed)(
      `${definition.name} finds each query's own row at large ef, and again after reopen`,
      async () => {
        // 300 random 8-d rows; the queries are rows 0..9, so the nearest neighbour is the row itself.
        const vectors = randomVectors(300, 8, 41);
        const base = new Float32Array(300 * 8);
        vectors.forEach((vector, row) => {
          base.set(vector, row * 8);
        });
        const directory = mkdtempSync(join(tmpdir(), 'quiverdb-peer-'));
        try {
          const contestant = await definition.create();
          const config = { type: 'hnsw' as const, m: 16, efConstruction: 200 };
          expect(contestant.supports(config)).toBe(true);
          await contestant.build({ base, count: 300, dim: 8, metric: 'l2', config, directory });
          const nearest = async (row: number) => {
            const vector = base.subarray(row * 8, (row + 1) * 8);
            const ids = contestant.searchAsync
              ? await contestant.searchAsync(vector, 5, 200)
              : contestant.search(vector, 5, 200);
            return ids[0];
          };
          for (let row = 0; row < 10; row++) expect(await nearest(row)).toBe(row);
          await contestant.close();
          await contestant.reopen();
          for (let row = 0; row < 10; row++) expect(await nearest(row)).toBe(row);
          await contestant.close();
        } finally {
          rmSync(directory, { recursive: true, force: true });
        }
      },
    );
  }
});
