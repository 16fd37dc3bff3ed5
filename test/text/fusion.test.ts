// Fusion arithmetic against hand-checked examples.
import { describe, expect, it } from 'vitest';
import { fuse } from '../../src/text/fusion.js';

// Labels: A = 1, B = 2, C = 3, D = 4.
const VECTOR = [
  { label: 1, distance: 0.1 },
  { label: 2, distance: 0.2 },
  { label: 3, distance: 0.4 },
];
const TEXT = [
  { label: 2, score: 3 },
  { label: 4, score: 2 },
  { label: 1, score: 1 },
];

describe('reciprocal rank fusion', () => {
  it('k = 60: Σ 1 / (60 + rank)', () => {
    const fused = fuse(VECTOR, TEXT, { method: 'rrf', k: 60 });
    // B: 1/62 + 1/61 = 0.0325225; A: 1/61 + 1/63 = 0.0322665; D: 1/62 = 0.0161290; C: 1/63 = 0.0158730.
    expect(fused.map((candidate) => candidate.label)).toEqual([2, 1, 4, 3]);
    expect(fused.map((candidate) => candidate.score)).toEqual([1 / 62 + 1 / 61, 1 / 61 + 1 / 63, 1 / 62, 1 / 63]);
    expect(fused[0]).toEqual({
      label: 2,
      score: 1 / 62 + 1 / 61,
      vectorRank: 2,
      vectorDistance: 0.2,
      textRank: 1,
      textScore: 3,
    });
    expect(fused[2]).toEqual({ label: 4, score: 1 / 62, textRank: 2, textScore: 2 });
  });

  it('k = 1 weighs the top ranks more', () => {
    const fused = fuse(VECTOR, TEXT, { method: 'rrf', k: 1 });
    // A: 1/2 + 1/4 = 0.75; B: 1/3 + 1/2 = 0.8333; C: 1/4; D: 1/3.
    expect(fused.map((candidate) => [candidate.label, candidate.score])).toEqual([
      [2, 1 / 3 + 1 / 2],
      [1, 1 / 2 + 1 / 4],
      [4, 1 / 3],
      [3, 1 / 4],
    ]);
  });

  it('one side empty: the other side in its own order', () => {
    expect(fuse(VECTOR, [], { method: 'rrf', k: 60 }).map((candidate) => candidate.label)).toEqual([1, 2, 3]);
    expect(fuse([], TEXT, { method: 'rrf', k: 60 }).map((candidate) => candidate.label)).toEqual([2, 4, 1]);
    expect(fuse([], [], { method: 'rrf', k: 60 })).toEqual([]);
  });
});

describe('weighted fusion of min-max normalised scores', () => {
  it('alpha 0.7', () => {
    // Vector: A 1, B (0.4 - 0.2) / 0.3 = 2/3, C 0. Text: B 1, D 0.5, A 0.
    // A 0.7; B 0.7 · 2/3 + 0.3 = 0.7667; C 0; D 0.3 · 0.5 = 0.15.
    const fused = fuse(VECTOR, TEXT, { method: 'weighted', alpha: 0.7 });
    expect(fused.map((candidate) => candidate.label)).toEqual([2, 1, 4, 3]);
    const scores = fused.map((candidate) => candidate.score);
    expect(scores[0]).toBeCloseTo(0.7 * (2 / 3) + 0.3, 12);
    expect(scores[1]).toBeCloseTo(0.7, 12);
    expect(scores[2]).toBeCloseTo(0.15, 12);
    expect(scores[3]).toBe(0);
  });

  it('alpha 1 is the vector order; ties go to the better rank on either side', () => {
    // A 1, B 2/3, C 0 (vector rank 3), D 0 (text rank 2): D before C.
    expect(fuse(VECTOR, TEXT, { method: 'weighted', alpha: 1 }).map((candidate) => candidate.label)).toEqual([
      1, 2, 4, 3,
    ]);
  });

  it('alpha 0 is the text order', () => {
    expect(fuse(VECTOR, TEXT, { method: 'weighted', alpha: 0 }).map((candidate) => candidate.label)).toEqual([
      2, 4, 1, 3,
    ]);
  });

  it('a list whose scores are all equal counts 1 throughout', () => {
    const fused = fuse(
      [{ label: 1, distance: 0.5 }],
      [
        { label: 2, score: 7 },
        { label: 3, score: 7 },
      ],
      {
        method: 'weighted',
        alpha: 0.25,
      },
    );
    expect(fused.map((candidate) => [candidate.label, candidate.score])).toEqual([
      [2, 0.75],
      [3, 0.75],
      [1, 0.25],
    ]);
  });
});
