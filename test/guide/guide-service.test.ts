// The guide service over fake receivers on a fake clock: a zap or a stream start holds the next
// request back (the first poll's news does not), what is on now, the cache file written and read
// back by the next start, and a broken cache file set aside with one warning.
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Channel, ChannelList } from '../../src/receiver/channels';
import { GuideTiming } from '../../src/receiver/guide';
import { INITIAL_STATE, ReceiverState } from '../../src/receiver/monitor';
import { channelId, parseServiceRef, ServiceRef } from '../../src/receiver/service-ref';
import type { EpgEvent } from '../../src/receiver/types';
import { GUIDE_CACHE_FILE } from '../../src/settings';
import { Guide } from '../../src/stream/guide';
import { FakeClock } from '../helpers/fake-clock';
import { recordingLogger } from '../helpers/stack';

const REFS = ['1:0:19:283D:3FB:1:C00000:0:0:0:', '1:0:19:2B66:3F3:1:C00000:0:0:0:'];
const TIMING: Partial<GuideTiming> = { firstFetchMs: 1_000, requestGapMs: 0, quietMs: 60_000 };
const SLOT = 1_800_000;

function channelOf(ref: string, i: number): Channel {
  const sref = parseServiceRef(ref);
  return { ref: sref, name: `Channel ${i + 1}`, bouquet: 'Favourites (TV)', number: i + 1, kind: 'tv', id: channelId(sref) };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function pass(clock: FakeClock, ms: number, step = 100): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(Math.min(step, ms - t));
    for (let i = 0; i < 5; i++) await flush();
  }
}

/** A receiver with a box that answers at once: programmes in half-hour slots from the slot of `from`. */
class FakeReceiver extends EventEmitter {
  readonly name = 'Test Box';
  readonly monitor = new EventEmitter();
  readonly sessions = new EventEmitter();
  readonly asked: Array<{ ref: string; at: number }> = [];
  list = new ChannelList(REFS.map(channelOf));
  readonly client = {
    label: 'Test Box (box:80)',
    epgService: async (ref: ServiceRef, from: Date, minutes: number): Promise<EpgEvent[]> => {
      this.asked.push({ ref: ref.ref, at: this.clock.now() });
      const first = Math.floor(from.getTime() / SLOT) * SLOT;
      return Array.from({ length: (minutes * 60_000) / SLOT + 1 }, (_, i) => ({
        id: i, ref, channelName: '', title: `Show ${i} on ${ref.ref}`, shortDescription: '', longDescription: 'Long.',
        begin: new Date(first + i * SLOT), durationSec: SLOT / 1000, genre: 'Talk',
      }));
    },
  };

  constructor(private readonly clock: FakeClock) {
    super();
  }

  channels(): ChannelList {
    return this.list;
  }
}

describe('Guide', () => {
  let dir: string;
  const stops: AbortController[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'xg2g-guide-test-'));
  });

  afterEach(() => {
    for (const s of stops.splice(0)) s.abort();
    rmSync(dir, { recursive: true, force: true });
  });

  function setup(clock = new FakeClock()) {
    const receiver = new FakeReceiver(clock);
    const lines: string[] = [];
    const stop = new AbortController();
    stops.push(stop);
    const guide = new Guide({
      sources: [{ receiver, sessions: receiver.sessions }],
      epg: { enabled: true, days: 1, refreshHours: 6 },
      cacheDir: dir,
      log: recordingLogger(lines),
      signal: stop.signal,
      timing: TIMING,
      clock,
    });
    return { clock, receiver, lines, stop, guide };
  }

  const state = (patch: Partial<ReceiverState>): ReceiverState => ({ ...INITIAL_STATE, reachable: true, power: 'on', ...patch });

  test('a zap and a stream start hold the next request back; the first poll does not', async () => {
    const { clock, receiver, guide } = setup();
    expect(guide.xmltv('http://p', '')).toBeUndefined();
    // The first poll reports the tuned channel: news, not a zap.
    receiver.monitor.emit('state', state({ channel: { ref: REFS[0], name: 'A' } }), INITIAL_STATE);
    receiver.emit('loaded');
    await pass(clock, 1_500);
    expect(receiver.asked).toHaveLength(2);

    // A zap just before a refresh: the refresh waits a minute.
    await pass(clock, 6 * 3_600_000 - 10_000, 10_000);
    const zapAt = clock.now();
    receiver.monitor.emit('state', state({ channel: { ref: REFS[1], name: 'B' } }), state({ channel: { ref: REFS[0], name: 'A' } }));
    await pass(clock, 50_000, 1_000);
    expect(receiver.asked).toHaveLength(2);
    await pass(clock, 20_000, 1_000);
    expect(receiver.asked).toHaveLength(4);
    expect(receiver.asked[2].at).toBeGreaterThanOrEqual(zapAt + 60_000);

    // So does a stream: from the viewer's request (tuning) to a minute after its first bytes.
    await pass(clock, 6 * 3_600_000 - 10_000, 10_000);
    receiver.sessions.emit('client-joined');
    await pass(clock, 5_000, 1_000);
    const streamAt = clock.now();
    receiver.sessions.emit('session-started');
    await pass(clock, 70_000, 1_000);
    expect(receiver.asked).toHaveLength(6);
    expect(receiver.asked[4].at).toBeGreaterThanOrEqual(streamAt + 60_000);
  });

  test('what is on now, from the guide', async () => {
    const { clock, receiver, guide } = setup();
    receiver.emit('loaded');
    await pass(clock, 1_500);
    const on = guide.now(receiver.list.all[1]);
    expect(on?.title).toMatch(new RegExp(`^Show 0 on ${REFS[1]}`));
    expect(on!.begin.getTime()).toBeLessThanOrEqual(clock.now());
    expect(on!.end.getTime()).toBeGreaterThan(clock.now());
    expect(guide.now(channelOf('1:0:19:1:1:1:C00000:0:0:0:', 5))).toBeUndefined();
  });

  test('the cache file is written after a refresh and served by the next start at once', async () => {
    const first = setup();
    first.receiver.emit('loaded');
    await pass(first.clock, 1_500);
    await first.guide.stop();
    const file = JSON.parse(readFileSync(join(dir, GUIDE_CACHE_FILE), 'utf8')) as { receivers: Record<string, { channels: unknown[] }> };
    expect(file.receivers['Test Box'].channels).toHaveLength(2);

    const next = setup(first.clock);
    // Before its channels load, and without asking the box.
    const xml = next.guide.xmltv('http://p', '');
    expect(xml).toBe(first.guide.xmltv('http://p', ''));
    expect(xml).toContain('<title>Show 0 on');
    expect(next.receiver.asked).toHaveLength(0);
  });

  test('a broken cache file is set aside with one warning, and the guide fetched anew', async () => {
    writeFileSync(join(dir, GUIDE_CACHE_FILE), '{"version": 1, "receivers": {');
    const { clock, receiver, guide, lines } = setup();
    expect(lines.filter((l) => l.startsWith('warn'))).toEqual([expect.stringMatching(/cache .* is not used: it is not valid JSON.*fetched from the receiver anew/)]);
    expect(guide.xmltv('http://p', '')).toBeUndefined();
    receiver.emit('loaded');
    await pass(clock, 1_500);
    expect(guide.xmltv('http://p', '')).toContain('<programme ');
  });
});
