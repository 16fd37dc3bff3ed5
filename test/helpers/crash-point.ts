// What a child process started with QUIVERDB_CRASH_AT writes to stderr when the named crash point
// fires (src/storage/crash-point.ts), so that a crash-point test can fail when its point was never
// reached instead of passing as a clean run.

/** True when `stderr` shows that the crash point `point` (`name` or `name:n`) killed the process. */
export function crashPointReached(stderr: string, point: string): boolean {
  const [name, occurrence] = point.split(':');
  return stderr.includes(`quiverdb crash point ${name}:${occurrence ?? 1}\n`);
}
