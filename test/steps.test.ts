// The step runners: one generator gives the same result and the same error handling run
// synchronously and asynchronously; only the asynchronous run awaits, and started steps overlap.
import { describe, expect, it } from 'vitest';
import { finish, pause, runAsync, runSync, type Steps, settle, start, step } from '../src/steps.js';

/** A little algorithm: reads two numbers (a step each), adds them, cleans up in a finally step. */
function* add(log: string[], fail: boolean): Steps<number> {
  try {
    const a = yield* step(
      () => 1,
      async () => 10,
    );
    yield* pause();
    const b = yield* step(
      () => {
        if (fail) throw new Error('read failed');
        return 2;
      },
      async () => {
        if (fail) throw new Error('read failed');
        return 20;
      },
    );
    return a + b;
  } finally {
    yield* step(
      () => {
        log.push('closed sync');
      },
      async () => {
        log.push('closed async');
      },
    );
  }
}

describe('steps', () => {
  it('runs each step its own way in each runner, and finally steps after the result', async () => {
    const log: string[] = [];
    expect(runSync(add(log, false))).toBe(3);
    expect(await runAsync(add(log, false))).toBe(30);
    expect(log).toEqual(['closed sync', 'closed async']);
  });

  it('throws a step error into the generator where it yielded (its finally steps run) in both runners', async () => {
    const log: string[] = [];
    expect(() => runSync(add(log, true))).toThrow('read failed');
    await expect(runAsync(add(log, true))).rejects.toThrow('read failed');
    expect(log).toEqual(['closed sync', 'closed async']);
  });

  it('lets a step caught inside the generator turn into a result', async () => {
    function* recovering(): Steps<string> {
      try {
        yield* step(
          () => {
            throw new Error('no');
          },
          () => Promise.reject(new Error('no')),
        );
        return 'unreachable';
      } catch (error) {
        return `caught ${(error as Error).message}`;
      }
    }
    expect(runSync(recovering())).toBe('caught no');
    expect(await runAsync(recovering())).toBe('caught no');
  });

  it('overlaps a started step with the next ones asynchronously, and finishes it at once synchronously', async () => {
    const order: string[] = [];
    let release: () => void = () => {};
    function* overlapping(): Steps<number> {
      const started = yield* start(
        () => {
          order.push('work');
          return 5;
        },
        () =>
          new Promise<number>((resolve) => {
            release = () => {
              order.push('work');
              resolve(7);
            };
          }),
      );
      order.push('between');
      release();
      return yield* finish(started);
    }
    expect(runSync(overlapping())).toBe(5);
    expect(order).toEqual(['work', 'between']);
    order.length = 0;
    expect(await runAsync(overlapping())).toBe(7);
    expect(order).toEqual(['between', 'work']);
  });

  it('surfaces a started step’s failure at finish, and settle ignores it', async () => {
    function* failing(useSettle: boolean): Steps<string> {
      const started = yield* start(
        () => undefined,
        () => Promise.reject(new Error('insert failed')),
      );
      if (useSettle) {
        yield* settle(started);
        return 'settled';
      }
      yield* finish(started);
      return 'finished';
    }
    await expect(runAsync(failing(false))).rejects.toThrow('insert failed');
    expect(await runAsync(failing(true))).toBe('settled');
    expect(runSync(failing(false))).toBe('finished');
  });
});
