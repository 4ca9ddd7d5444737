// The shared retry habits: delays that grow to a cap (or stay fixed) within an optional budget,
// and failures said once until they change or clear.
import { Backoff, LogOnce } from '../../src/retry';

it('doubles delays up to the cap, forever when no budget is set, and starts over after a reset', () => {
  const b = new Backoff({ firstMs: 1_000, maxMs: 60_000 });
  expect(Array.from({ length: 9 }, () => b.next())).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  b.reset();
  expect(b.next()).toBe(1_000);
});

it('keeps a fixed delay within a budget of tries, and gives the budget back on reset', () => {
  const b = new Backoff({ firstMs: 500, attempts: 3 });
  expect([b.next(), b.next(), b.next(), b.next()]).toEqual([500, 500, 500, undefined]);
  expect([b.used, b.limit]).toEqual([3, 3]);
  b.reset();
  expect(b.next()).toBe(500);
});

it('writes a line only when it differs from the last one, and again after it cleared', () => {
  const lines: string[] = [];
  const once = new LogOnce((l) => lines.push(l));
  once.say('box down');
  once.say('box down');
  once.say('box refused the login');
  expect(once.clear()).toBe(true);
  expect(once.clear()).toBe(false);
  once.say('box refused the login');
  expect(lines).toEqual(['box down', 'box refused the login', 'box refused the login']);
  expect(once.current).toBe('box refused the login');
});
