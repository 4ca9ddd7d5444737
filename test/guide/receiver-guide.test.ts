// The per-receiver guide fetcher on a fake clock: one request at a time with a pause between, no
// request during the quiet time after a zap (it waits, it does not skip), the last guide kept and
// the failure logged once while the box is down, retries with back-off, and the schedule.
import { Channel, ChannelList } from '../../src/receiver/channels';
import { protocolError, unreachableError } from '../../src/receiver/errors';
import { GuideTiming, programmesOf, ReceiverGuide, ReceiverGuideData } from '../../src/receiver/guide';
import { channelId, parseServiceRef, ServiceRef } from '../../src/receiver/service-ref';
import type { EpgEvent } from '../../src/receiver/types';
import { FakeClock } from '../helpers/fake-clock';
import { recordingLogger } from '../helpers/stack';

const REFS = ['1:0:19:283D:3FB:1:C00000:0:0:0:', '1:0:19:2B66:3F3:1:C00000:0:0:0:', '1:0:19:283E:3FB:1:C00000:0:0:0:'];
const TIMING: GuideTiming = { firstFetchMs: 1_000, requestGapMs: 100, quietMs: 60_000, retryMinMs: 10_000, retryMaxMs: 40_000, requestTimeoutMs: 5_000 };
const HOUR = 3_600_000;

function channelOf(ref: string, i: number): Channel {
  const sref = parseServiceRef(ref);
  return { ref: sref, name: `Channel ${i + 1}`, bouquet: 'Favourites (TV)', number: i + 1, kind: 'tv', id: channelId(sref) };
}

function event(ref: ServiceRef, begin: number, minutes: number, title: string): EpgEvent {
  return { id: 1, ref, channelName: '', title, shortDescription: 'short', longDescription: '', begin: new Date(begin), durationSec: minutes * 60, genre: '' };
}

interface Call { ref: string; at: number; minutes: number; timeoutMs?: number }

/** A box whose EPG answers take `answerMs` of fake time; `fail` decides per call. */
class FakeBox {
  readonly calls: Call[] = [];
  inFlight = 0;
  maxInFlight = 0;
  fail: ((ref: string) => Error | undefined) | undefined;
  readonly label = 'Test Box (box:80)';

  constructor(private readonly clock: FakeClock, private readonly answerMs = 50) {}

  epgService = (ref: ServiceRef, from: Date, minutes: number, timeoutMs?: number): Promise<EpgEvent[]> => {
    this.calls.push({ ref: ref.ref, at: this.clock.now(), minutes, timeoutMs });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise((resolve, reject) => {
      this.clock.setTimeout(() => {
        this.inFlight--;
        const error = this.fail?.(ref.ref);
        if (error) return reject(error);
        resolve([event(ref, from.getTime() - 600_000, 30, `Now on ${ref.ref}`), event(ref, from.getTime() + 1_200_000, 30, `Next on ${ref.ref}`)]);
      }, this.answerMs);
    });
  };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Moves the fake clock in steps, letting promises settle between them. */
async function pass(clock: FakeClock, ms: number, step = 50): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(Math.min(step, ms - t));
    for (let i = 0; i < 5; i++) await flush();
  }
}

function setup(cached?: ReceiverGuideData) {
  const clock = new FakeClock();
  const box = new FakeBox(clock);
  const lines: string[] = [];
  const stop = new AbortController();
  const updates: ReceiverGuideData[] = [];
  let list = new ChannelList(REFS.map(channelOf));
  const guide = new ReceiverGuide({
    client: box, channels: () => list, days: 2, refreshHours: 6, log: recordingLogger(lines), signal: stop.signal,
    cached, onUpdate: (data) => updates.push(data), timing: TIMING, clock,
  });
  return { clock, box, lines, stop, updates, guide, setList: (l: ChannelList) => (list = l) };
}

describe('ReceiverGuide', () => {
  test('fetches every channel one at a time, the whole window, after the first delay', async () => {
    const { clock, box, guide, updates, stop } = setup();
    guide.channelsLoaded();
    await pass(clock, TIMING.firstFetchMs - 50);
    expect(box.calls).toHaveLength(0);
    await pass(clock, 1_000);
    expect(box.calls.map((c) => c.ref)).toEqual(REFS);
    expect(box.maxInFlight).toBe(1);
    expect(box.calls.every((c) => c.minutes === 2 * 24 * 60 && c.timeoutMs === TIMING.requestTimeoutMs)).toBe(true);
    // Answer (50 ms) plus the pause (100 ms) between two requests.
    expect(box.calls[1].at - box.calls[0].at).toBe(150);
    expect(updates).toHaveLength(1);
    expect(guide.data?.channels.map((c) => c.programmes.map((p) => p.title))[0]).toEqual([`Now on ${REFS[0]}`, `Next on ${REFS[0]}`]);
    expect(guide.data?.channels[0].programmes[0].description).toBe('short');
    stop.abort();
  });

  test('a zap makes the next request wait out the quiet time instead of skipping the channel', async () => {
    const { clock, box, guide, stop } = setup();
    guide.channelsLoaded();
    await pass(clock, TIMING.firstFetchMs + 20);
    expect(box.calls).toHaveLength(1);
    const zapAt = clock.now();
    guide.quiet();
    await pass(clock, TIMING.quietMs - 100);
    expect(box.calls).toHaveLength(1);
    await pass(clock, 1_000);
    expect(box.calls.map((c) => c.ref)).toEqual(REFS);
    expect(box.calls[1].at).toBeGreaterThanOrEqual(zapAt + TIMING.quietMs);
    stop.abort();
  });

  test('a box that is down keeps the last guide, is logged once and retried with back-off', async () => {
    const { clock, box, guide, lines, updates, stop } = setup();
    guide.channelsLoaded();
    await pass(clock, 2_000);
    const first = guide.data;
    expect(first?.channels).toHaveLength(3);

    box.fail = () => unreachableError({ receiver: box.label, endpoint: '/api/epgservice' }, 'ECONNREFUSED');
    await pass(clock, 6 * HOUR, 1_000);
    const failedAt = box.calls.length;
    expect(guide.data).toBe(first);
    // Back-off between the failing tries (each try's answer takes the box 50 ms): 10 s, 20 s, 40 s.
    await pass(clock, TIMING.retryMinMs + 2_000);
    await pass(clock, 2 * TIMING.retryMinMs + 100);
    await pass(clock, 4 * TIMING.retryMinMs + 100);
    const retries = box.calls.slice(failedAt).map((c) => c.at);
    expect(retries).toHaveLength(3);
    expect(retries[1] - retries[0]).toBe(2 * TIMING.retryMinMs + 50);
    expect(retries[2] - retries[1]).toBe(TIMING.retryMaxMs + 50);
    expect(guide.data).toBe(first);
    expect(lines.filter((l) => l.startsWith('warn'))).toHaveLength(1);
    expect(lines.find((l) => l.startsWith('warn'))).toMatch(/refused.*keeps what it last had/);

    box.fail = undefined;
    await pass(clock, TIMING.retryMaxMs + 1_000);
    expect(guide.data).not.toBe(first);
    expect(updates).toHaveLength(2);
    // Loaded at first, and again once it works after the failure.
    expect(lines.filter((l) => l.startsWith('info'))).toHaveLength(2);
    stop.abort();
  });

  test('one channel the box answers badly keeps its programmes; the others are refreshed', async () => {
    const { clock, box, guide, lines, stop } = setup();
    guide.channelsLoaded();
    await pass(clock, 2_000);
    const before = guide.data!.channels[1].programmes;
    box.fail = (ref) => (ref === REFS[1] ? protocolError({ receiver: box.label, endpoint: '/api/epgservice' }, 'text that is not JSON') : undefined);
    await pass(clock, 6 * HOUR, 1_000);
    await pass(clock, 2_000);
    expect(guide.data!.channels[1].programmes).toBe(before);
    expect(guide.data!.channels[0].programmes[0].begin).toBeGreaterThan(before[0].begin);
    expect(lines.filter((l) => l.includes('could not be read'))).toHaveLength(1);
    stop.abort();
  });

  test('a fresh cached guide of the same channels waits for its refresh time; other channels are fetched soon', async () => {
    const { clock } = setup();
    const cached: ReceiverGuideData = { fetchedAt: clock.now() - HOUR, channels: REFS.map((r, i) => ({ id: channelOf(r, i).id, name: `Channel ${i + 1}`, ref: r, programmes: [] })) };
    const same = setup(cached);
    same.guide.channelsLoaded();
    await pass(same.clock, 5 * HOUR - 60_000, 60_000);
    expect(same.box.calls).toHaveLength(0);
    await pass(same.clock, 120_000, 1_000);
    expect(same.box.calls).toHaveLength(3);
    same.stop.abort();

    const other = setup(cached);
    other.setList(new ChannelList(REFS.slice(0, 2).map(channelOf)));
    other.guide.channelsLoaded();
    await pass(other.clock, 2_000);
    expect(other.box.calls).toHaveLength(2);
    other.stop.abort();
  });

  test('stopping ends the timers and a refresh waiting for quiet', async () => {
    const { clock, box, guide, stop } = setup();
    guide.channelsLoaded();
    await pass(clock, TIMING.firstFetchMs + 20);
    guide.quiet();
    stop.abort();
    await pass(clock, TIMING.quietMs + 1_000, 1_000);
    expect(box.calls).toHaveLength(1);
    expect(guide.busy).toBe(false);
    expect(clock.pending).toBe(0);
  });
});

describe('programmesOf', () => {
  const ref = parseServiceRef(REFS[0]);
  test('keeps timed, titled, not yet ended events in order, once per start; DVB control codes become text', () => {
    const t = Date.UTC(2024, 0, 1, 20, 0, 0);
    const events: EpgEvent[] = [
      { ...event(ref, t + 1_800_000, 30, 'Later'), longDescription: 'Line one\u008aLine two \u0086emphasis\u0087' },
      event(ref, t, 30, 'Now'),
      event(ref, t, 30, 'Now again'),
      event(ref, t - 3_600_000, 30, 'Over'),
      { ...event(ref, t + 3_600_000, 30, ''), title: '  ' },
      { ...event(ref, t + 5_400_000, 30, 'No time'), begin: null },
      event(ref, t + 7_200_000, 0, 'No length'),
    ];
    const programmes = programmesOf(events, t);
    expect(programmes.map((p) => p.title)).toEqual(['Now', 'Later']);
    expect(programmes[1].description).toBe('Line one\nLine two emphasis');
    expect(programmes[0]).toMatchObject({ begin: t, end: t + 1_800_000, description: 'short' });
  });
});
