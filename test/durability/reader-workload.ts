// The records of the reader/writer test: batch b holds `size` records `b<b>-<i>` whose vectors follow
// from their ids, so a reader can check every record it is given against its id.

export const DIM = 4;

/** The vector of record i of batch b. */
export function vectorOf(batch: number, index: number): number[] {
  return [batch % 97, index % 101, (batch * 7 + index) % 13, 1 + (index % 3)];
}

/** The text of record i of batch b: its batch as one word (a text query for it finds the batch whole). */
export function textOf(batch: number, index: number): string {
  return `batch${batch} item${index % 7}`;
}

/** (batch, index) from an id `b<batch>-<index>`. */
export function parseId(id: string): { batch: number; index: number } {
  const match = /^b(\d+)-(\d+)$/.exec(id);
  if (match === null) throw new Error(`unexpected id ${id}`);
  return { batch: Number(match[1]), index: Number(match[2]) };
}

/** Records in batch b: always more than one page of get({ filter }) (1,000 records). */
export function sizeOf(batch: number): number {
  return 1000 + ((batch * 37) % 600);
}
