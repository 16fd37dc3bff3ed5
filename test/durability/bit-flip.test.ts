// Random bit flips inside quiver.sqlite (SQLite pages carry no checksum): each flip must be detected
// by the next read of a damaged record (CORRUPT, thanks to the record checksum), or by `quiver verify`
// (exit 1), or provably touch no record (every record reads back as written) — never a silently wrong
// answer that verify passes, never a raw error or a crash. Seeded; a failing run prints its seed
// (QUIVERDB_FLIP_SEED replays one, QUIVERDB_FLIPS sets how many flips).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { open } from '../../src/index.js';
import { tempDirectory } from '../helpers/fixtures.js';
import { random } from '../helpers/random.js';

const READER = join(import.meta.dirname, 'bit-flip-reader.ts');
const FLIPS = Number(process.env['QUIVERDB_FLIPS'] ?? 8);
const DIM = 8;

const directory = tempDirectory('quiver-flip-');
afterAll(() => directory.cleanup());

interface Summary {
  same: number;
  corrupt: number;
  silentlyWrong: string[];
  errors: string[];
  verifyStatus: number;
}

describe('random bit flips in quiver.sqlite', () => {
  it('are each detected by a read or by quiver verify, or touch no record', {
    timeout: 60_000 + FLIPS * 30_000,
  }, () => {
    const seed = Number(process.env['QUIVERDB_FLIP_SEED'] ?? Date.now() % 1_000_000);
    const next = random(seed);
    const original = join(directory.path, 'original');
    const expected: Record<string, { vector: number[]; metadata: unknown }> = {};
    const db = open(original);
    const docs = db.collection('docs', { dim: DIM, index: { type: 'flat' } });
    const records = Array.from({ length: 400 }, (_, i) => ({
      id: `record-${i}`,
      vector: Array.from({ length: DIM }, () => Math.round(next() * 1000) / 8),
      metadata: { title: `title ${i} ${'x'.repeat(i % 40)}`, n: i, tags: [`t${i % 7}`] },
    }));
    docs.upsert(records);
    for (const record of records) expected[record.id] = { vector: record.vector, metadata: record.metadata };
    db.close(); // checkpoints the WAL: quiver.sqlite holds everything
    const expectedFile = join(directory.path, 'expected.json');
    writeFileSync(expectedFile, JSON.stringify(expected));
    const bytes = readFileSync(join(original, 'quiver.sqlite'));
    const outcomes: string[] = [];
    for (let flip = 0; flip < FLIPS; flip++) {
      // Every other flip lands in a record's stored metadata text, so that records are surely hit.
      let offset = Math.floor(next() * bytes.length);
      if (flip % 2 === 1) {
        const target = records[Math.floor(next() * records.length)]!;
        const text = Buffer.from(JSON.stringify(target.metadata));
        const at = bytes.indexOf(text);
        if (at >= 0) offset = at + Math.floor(next() * text.length);
      }
      const bit = Math.floor(next() * 8);
      const copy = join(directory.path, `flip-${flip}`);
      mkdirSync(copy);
      copyFileSync(join(original, 'quiver.sqlite'), join(copy, 'quiver.sqlite'));
      const damaged = Buffer.from(bytes);
      damaged[offset]! ^= 1 << bit;
      writeFileSync(join(copy, 'quiver.sqlite'), damaged);
      const ran = spawnSync(process.execPath, ['--import', 'tsx', READER, copy, expectedFile], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      const where = `seed ${seed}, flip ${flip}: byte ${offset} bit ${bit}`;
      expect(ran.status, `${where}: the reader died: ${ran.stderr}`).toBe(0);
      const summary = JSON.parse(ran.stdout.trim().split('\n').pop()!) as Summary;
      outcomes.push(`${where}: ${JSON.stringify(summary)}`);
      expect(summary.errors, where).toEqual([]);
      const touchedNothing = summary.same === records.length && summary.silentlyWrong.length === 0;
      const detected = summary.verifyStatus === 1 || summary.silentlyWrong.length === 0;
      expect(touchedNothing || detected, `${where}: ${JSON.stringify(summary)}`).toBe(true);
    }
    expect(outcomes).toHaveLength(FLIPS);
  });
});
