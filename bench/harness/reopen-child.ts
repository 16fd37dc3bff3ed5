// Child process of the runner's own-process reopen: one contestant alone in a fresh process opens
// the index another process built and closed, answers one query, then `queries` more, and reports
// open time, the first query's time and its resident memory (RSS) before the open and after the
// queries, as one JSON line on stdout. Run as `node --import tsx reopen-child.ts <request.json>`.
import { readFileSync } from 'node:fs';
import { contestantDefinitions } from './main.js';
import { now, residentBytes, secondsBetween } from './measure.js';
import type { ReopenFigures, ReopenRequest } from './reopen.js';

const request = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as ReopenRequest;
const bytes = readFileSync(request.queriesFile);
const queries = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
const definition = contestantDefinitions({
  durability: request.durability,
  ...(request.threads !== undefined ? { threads: request.threads } : {}),
}).get(request.contestant);
if (definition === undefined) throw new Error(`unknown contestant ${request.contestant}`);
const contestant = await definition.create();
if (contestant.adopt === undefined) throw new Error(`${request.contestant} cannot adopt an index built elsewhere`);
const dim = request.input.dim;
const queryCount = queries.length / dim;
const queryAt = (index: number) => queries.subarray((index % queryCount) * dim, ((index % queryCount) + 1) * dim);
contestant.adopt(request.input);

const rssBeforeOpenBytes = residentBytes();
const openStart = now();
await contestant.reopen();
const openSeconds = secondsBetween(openStart, now());
const firstStart = now();
if (contestant.searchAsync === undefined) contestant.search(queryAt(0), request.k, request.ef);
else await contestant.searchAsync(queryAt(0), request.k, request.ef);
const firstQueryMilliseconds = Number(now() - firstStart) / 1e6;
for (let index = 1; index <= request.queries; index++) {
  if (contestant.searchAsync === undefined) contestant.search(queryAt(index), request.k, request.ef);
  else await contestant.searchAsync(queryAt(index), request.k, request.ef);
}
const figures: ReopenFigures = {
  openSeconds,
  firstQueryMilliseconds,
  queries: request.queries,
  rssBeforeOpenBytes,
  rssAfterQueriesBytes: residentBytes(),
};
process.stdout.write(`${JSON.stringify(figures)}\n`);
// No close: hnswlib-node's would write its whole file again; the runner removes the folder.
process.exit(0);
