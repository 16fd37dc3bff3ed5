// Tests for the harness's pure parts: option parsing, search sizes, the SVG chart and Markdown.

import { describe, expect, it } from 'vitest';
import { renderRecallQpsChart } from '../../bench/harness/chart-svg.js';
import { durabilityPlan } from '../../bench/harness/durability.js';
import { indexConfigs } from '../../bench/harness/main.js';
import { median, percentile } from '../../bench/harness/measure.js';
import { parseOptions, QUICK } from '../../bench/harness/options.js';
import { type DatasetResult, type RunResult, ratios, searchSizes } from '../../bench/harness/runner.js';

/** A minimal well-formedness check: every opened element is closed in order. */
function balanced(svg: string): boolean {
  const stack: string[] = [];
  for (const match of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = match;
    if (selfClosing) continue;
    if (closing) {
      if (stack.pop() !== name) return false;
    } else stack.push(name!);
  }
  return stack.length === 0;
}

describe('parseOptions', () => {
  it('has documented defaults', () => {
    const options = parseOptions([], new Date('2030-01-02T03:04:05.678Z'));
    expect(options.out).toBe('bench-results/2030-01-02T03-04-05');
    expect(options.datasets).toEqual(['synthetic']);
    expect(options.ef).toEqual([10, 20, 40, 80, 160, 320]);
    expect(options.recallDepths).toEqual([1, 10, 100]);
    expect(options.contestants).toEqual(['quiverdb', 'hnswlib-node']);
    expect(options.passes).toBe(3);
  });

  it('parses lists, repeats and --quick, letting explicit options win', () => {
    const options = parseOptions([
      '--dataset',
      'a',
      '--dataset',
      'synthetic:n=10',
      '--ef',
      '40,10,40',
      '--index',
      'hnsw,flat',
      '--m',
      '8,16',
      '--quick',
      '--passes',
      '2',
      '--metric',
      'angular',
    ]);
    expect(options.datasets).toEqual(['a', 'synthetic:n=10']);
    expect(options.ef).toEqual([10, 40]);
    expect(options.passes).toBe(2);
    expect(options.limit).toBe(QUICK.limit);
    expect(options.queries).toBe(QUICK.queries);
    expect(options.metric).toBe('cosine');
    expect(indexConfigs(options)).toEqual([
      { type: 'hnsw', m: 8, efConstruction: 200 },
      { type: 'hnsw', m: 16, efConstruction: 200 },
      { type: 'flat' },
    ]);
  });

  it('rejects unknown options and bad values with a pointer to --help', () => {
    expect(() => parseOptions(['--frobnicate'])).toThrow(/--help/);
    expect(() => parseOptions(['--ef', '10,x'])).toThrow(/--ef must be a positive integer/);
    expect(() => parseOptions(['--index', 'ivf'])).toThrow(/hnsw and flat/);
    expect(() => parseOptions(['--durability', 'sometimes'])).toThrow(/full or normal/);
    expect(() => parseOptions(['--threads', '0'])).toThrow(/--threads must be a positive integer/);
    expect(parseOptions(['--threads', '1']).threads).toBe(1);
    expect(parseOptions([]).threads).toBeUndefined();
    expect(() => parseOptions(['--suite', 'speed'])).toThrow(/--suite is recall, durability/);
    expect(() => parseOptions(['--vectors', '0'])).toThrow(/--vectors must be a positive integer/);
    expect(() => parseOptions(['--threads', '0'])).toThrow(/--threads must be a positive integer/);
    expect(() => parseOptions(['--threads', '257'])).toThrow(/--threads must be at most 256/);
    expect(() => parseOptions(['--batch', '2.5'])).toThrow(/--batch must be a positive integer/);
  });

  it('takes QuiverDB threads and a batch size, both off by default', () => {
    expect([parseOptions([]).threads, parseOptions([]).batch]).toEqual([undefined, undefined]);
    const options = parseOptions(['--threads', '1', '--batch', '64']);
    expect([options.threads, options.batch]).toEqual([1, 64]);
  });

  it('selects the suite, recall by default', () => {
    expect(parseOptions([]).suite).toBe('recall');
    const options = parseOptions(['--suite', 'durability', '--quick', '--vectors', '5000']);
    expect([options.suite, options.quick, options.vectors]).toEqual(['durability', true, 5000]);
  });
});

describe('durabilityPlan', () => {
  it('measures batches of 1, 100 and 10,000 with fewer vectors for batch 1, and 100k for open time', () => {
    const plan = durabilityPlan({ quick: false });
    expect(plan.ingest).toEqual([
      { batchSize: 1, vectors: 2_000 },
      { batchSize: 100, vectors: 50_000 },
      { batchSize: 10_000, vectors: 50_000 },
    ]);
    expect([plan.openVectors, plan.replayRows, plan.repeats]).toEqual([100_000, 10_000, 3]);
    expect(plan.indexes).toEqual(['hnsw', 'flat']);
    expect(plan.durabilities).toEqual(['full', 'normal']);
  });

  it('shrinks under --quick to 10k vectors, and --vectors caps every step', () => {
    const quick = durabilityPlan({ quick: true });
    expect([quick.openVectors, quick.replayRows, quick.repeats]).toEqual([10_000, 1_000, 1]);
    const tiny = durabilityPlan({ quick: true, vectors: 500 });
    expect(tiny.ingest.map((step) => step.vectors)).toEqual([200, 500, 500]);
    expect([tiny.openVectors, tiny.replayRows]).toEqual([500, 50]);
  });
});

describe('searchSizes', () => {
  it('serves depths up to 10 from one k=10 search', () => {
    const { sizes, sourceOf } = searchSizes([1, 10, 100], 10_000);
    expect(sizes).toEqual([10, 100]);
    expect(sourceOf.get(1)).toBe(10);
    expect(searchSizes([1, 5], 3).sizes).toEqual([3]);
  });
});

describe('measure', () => {
  it('takes medians and nearest-rank percentiles', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    const sorted = Float64Array.from({ length: 100 }, (_, index) => index + 1);
    expect([percentile(sorted, 50), percentile(sorted, 95), percentile(sorted, 99)]).toEqual([50, 95, 99]);
  });
});

describe('renderRecallQpsChart', () => {
  it('draws a well-formed SVG with a line per series, a log axis and escaped labels', () => {
    const svg = renderRecallQpsChart('a <b> & c', 'recall@10', [
      {
        label: 'quiverdb · hnsw m=16 efc=200',
        points: [
          { recall: 0.7, qps: 20_000, ef: 10 },
          { recall: 0.99, qps: 3000, ef: 80 },
        ],
      },
      { label: 'hnswlib-node · flat', points: [{ recall: 1, qps: 150, ef: null }] },
    ]);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(balanced(svg)).toBe(true);
    expect(svg).toContain('a &#60;b&#62; &#38; c');
    expect(svg.match(/<polyline/g)?.length).toBe(1);
    expect(svg).toContain('>ef=80<');
    expect(svg).toContain('>exact<');
    // Decade ticks from 100 to 100k on the log axis.
    for (const tick of ['>100<', '>1k<', '>10k<', '>100k<']) expect(svg).toContain(tick);
    expect(svg).not.toContain('NaN');
  });

  it('still draws a valid chart without data', () => {
    const svg = renderRecallQpsChart('empty', 'recall@10', []);
    expect(balanced(svg)).toBe(true);
    expect(svg).toContain('no data');
  });
});

describe('ratios', () => {
  /** A run with one sweep point per [ef, recall@10, QPS, batch QPS?]. */
  const run = (
    contestant: string,
    points: Array<[number, number, number, number?]>,
    buildSeconds: number,
  ): RunResult => ({
    contestant,
    config: { type: 'hnsw', m: 16, efConstruction: 200 },
    label: 'hnsw m=16 efc=200',
    sweep: points.map(([ef, recall, qps, batchQps]) => ({
      ef,
      recall: { '10': recall },
      tieAwareRecall: { '10': recall },
      searches: [
        {
          k: 10,
          qps,
          passQps: [qps],
          latencyMicroseconds: { p50: 1, p95: 1, p99: 1, mean: 1 },
          ...(batchQps === undefined ? {} : { batch: { batchSize: 100, qps: batchQps, passQps: [batchQps], recall } }),
        },
      ],
    })),
    build: {
      seconds: buildSeconds,
      vectorsPerSecond: 1,
      rssDeltaBytes: 0,
      memoryEstimateBytes: null,
      closeSeconds: 0,
      diskBytes: 0,
      openSeconds: 0,
      firstQueryMilliseconds: 0,
      recallAfterReopen: 1,
    },
  });

  it('compares at the same ef and at equal recall, checked by hand', () => {
    const result = {
      primaryDepth: 10,
      runs: [
        run(
          'quiverdb-ids',
          [
            [10, 0.9, 1000, 2400],
            [20, 0.95, 800, 1800],
            [40, 0.99, 500, 1100],
          ],
          5,
        ),
        run(
          'hnswlib-node',
          [
            [10, 0.93, 400],
            [20, 0.96, 300],
            [40, 0.995, 200],
          ],
          10,
        ),
      ],
    } as unknown as DatasetResult;
    const [at10, at20, at40] = ratios(result);
    // ef 10: same ef 1000 / 400; hnswlib-node's 0.93 is first reached by QuiverDB's ef-20 point:
    // 800 / 400 single, 1800 / 400 batched.
    expect(at10).toMatchObject({ contestant: 'quiverdb-ids', ef: 10, recall: 0.9, baselineRecall: 0.93 });
    expect(at10!.qps).toBeCloseTo(2.5, 10);
    expect(at10!.qpsAtEqualRecall).toBeCloseTo(2, 10);
    expect(at10!.batchQpsAtEqualRecall).toBeCloseTo(4.5, 10);
    expect(at10!.buildTime).toBeCloseTo(0.5, 10);
    // ef 20: 0.96 needs QuiverDB's ef-40 point (0.99): 500 / 300.
    expect(at20!.qpsAtEqualRecall).toBeCloseTo(500 / 300, 10);
    // ef 40: no QuiverDB point reaches 0.995.
    expect(at40!.qpsAtEqualRecall).toBeNull();
    expect(at40!.batchQpsAtEqualRecall).toBeNull();
  });
});
