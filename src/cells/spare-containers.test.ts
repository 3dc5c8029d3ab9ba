import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { SpareContainers, type SpareContainer } from './spare-containers.js';

/** Let every pending promise callback run (the clock is fake: no time passes). */
const settle = () => new Promise((r) => setImmediate(r));

/** Spares that only record being made and removed. */
function maker() {
  const removed: string[] = [];
  let n = 0;
  const make = (): Promise<SpareContainer> => {
    const name = `spare-${++n}`;
    return Promise.resolve({
      name,
      remove: () => {
        removed.push(name);
        return Promise.resolve();
      },
    });
  };
  return { make, removed };
}

describe('SpareContainers', () => {
  it('hands a group its spare once, for the spec it was made for', async () => {
    const spares = new SpareContainers({ clock: new FakeClock() });
    const { make, removed } = maker();
    spares.refill('family', 'spec-a', make);
    spares.refill('family', 'spec-a', make); // already has one: nothing more is made
    expect((await spares.take('family', 'spec-a'))?.name).toBe('spare-1');
    expect(await spares.take('family', 'spec-a')).toBeUndefined();
    expect(await spares.take('work', 'spec-a')).toBeUndefined();
    expect(removed).toEqual([]);
  });

  it('waits for a spare still being made rather than starting without it', async () => {
    const spares = new SpareContainers({ clock: new FakeClock() });
    let finish: (s: SpareContainer) => void = () => undefined;
    spares.refill('family', 'a', () => new Promise((r) => (finish = r)));
    const taken = spares.take('family', 'a');
    finish({ name: 'late', remove: () => Promise.resolve() });
    expect((await taken)?.name).toBe('late');
  });

  it('goes without a spare that is not made within the wait, and removes it when it is', async () => {
    const clock = new FakeClock();
    const spares = new SpareContainers({ clock, waitMs: 500 });
    const removed: string[] = [];
    let finish: (s: SpareContainer) => void = () => undefined;
    spares.refill('family', 'a', () => new Promise((r) => (finish = r)));
    const taken = spares.take('family', 'a');
    clock.advance(500);
    expect(await taken).toBeUndefined();
    finish({ name: 'slow', remove: () => Promise.resolve(void removed.push('slow')) });
    await settle();
    expect(removed).toEqual(['slow']);
  });

  it('removes a spare made for another spec, and makes one for the new spec', async () => {
    const spares = new SpareContainers({ clock: new FakeClock() });
    const { make, removed } = maker();
    spares.refill('family', 'old', make);
    expect(await spares.take('family', 'new')).toBeUndefined();
    await settle();
    expect(removed).toEqual(['spare-1']);
    spares.refill('family', 'old', make);
    spares.refill('family', 'new', make); // replaces the old-spec spare
    await settle();
    expect(removed).toEqual(['spare-1', 'spare-2']);
    expect((await spares.take('family', 'new'))?.name).toBe('spare-3');
  });

  it('removes a spare left unused for the idle time, and every spare at close', async () => {
    const clock = new FakeClock();
    const spares = new SpareContainers({ clock, idleMs: 1000 });
    const { make, removed } = maker();
    spares.refill('a', 'k', make);
    spares.refill('b', 'k', make);
    await settle();
    clock.advance(999);
    expect(removed).toEqual([]);
    spares.refill('c', 'k', make);
    await settle();
    clock.advance(1);
    await settle();
    expect(removed.sort()).toEqual(['spare-1', 'spare-2']);
    expect(spares.size).toBe(1);
    await spares.close();
    expect(removed.sort()).toEqual(['spare-1', 'spare-2', 'spare-3']);
    spares.refill('d', 'k', make); // closed: nothing is made any more
    expect(spares.size).toBe(0);
  });

  it('makes no more than its total, and forgets a spare that could not be made', async () => {
    const spares = new SpareContainers({ clock: new FakeClock(), total: 2 });
    const { make } = maker();
    spares.refill('a', 'k', make);
    spares.refill('b', 'k', make);
    spares.refill('c', 'k', make);
    expect(spares.size).toBe(2);
    spares.refill('d', 'k', () => Promise.reject(new Error('engine down')));
    const failing = new SpareContainers({ clock: new FakeClock() });
    failing.refill('a', 'k', () => Promise.resolve(undefined));
    await settle();
    expect(failing.size).toBe(0);
    expect(await failing.take('a', 'k')).toBeUndefined();
  });
});
