/**
 * The camera's still pictures, cheapest source first:
 *   1. the proxy already streams the channel on screen: one frame decoded from its session's cached
 *      GOP (no tuner, no request to the box, no wait for a keyframe);
 *   2. else the box's own `/grab` (a JPEG of its screen), rounded to a few widths and reused for
 *      CAMERA_GRAB_CACHE_MS, with concurrent requests sharing one fetch: grabs stall weak boxes;
 *   3. else (standby, unreachable, a grab that fails or is slow) a placeholder saying so.
 * A snapshot never rejects and never makes the Home app wait past CAMERA_SNAPSHOT_BUDGET_MS.
 */
import { Logger } from '../logger';
import type { OpenWebIfClient } from '../receiver/client';
import type { ReceiverMonitor } from '../receiver/monitor';
import { tryParseServiceRef } from '../receiver/service-ref';
import {
  CAMERA_FRAME_DECODE_TIMEOUT_MS, CAMERA_FRAME_INPUT_MAX_BYTES, CAMERA_GRAB_CACHE_MS, CAMERA_GRAB_WIDTHS, CAMERA_JPEG_MAX_BYTES,
  CAMERA_SIZE_MAX, CAMERA_SIZE_MIN, CAMERA_SNAPSHOT_BUDGET_MS, TS_PACKET_SIZE,
} from '../settings';
import { PlaceholderText, Placeholders } from './camera-placeholder';
import { frameArgs } from './ffmpeg-args';
import { runFfmpegOnce } from './ffmpeg-once';
import { SessionManager } from './sessions';
import { TsInspector } from './ts-inspector';

export interface SnapshotOptions {
  receiver: { readonly name: string; readonly client: Pick<OpenWebIfClient, 'grab'>; readonly monitor: Pick<ReceiverMonitor, 'state' | 'polled'> };
  sessions: Pick<SessionManager, 'find'>;
  ffmpegPath: string;
  log: Logger;
  signal: AbortSignal;
  /** For tests: the deadlines, in ms. */
  budgetMs?: number;
  grabCacheMs?: number;
}

interface Grab {
  at: number;
  picture: Promise<Buffer | undefined>;
}

export class CameraSnapshots {
  private readonly placeholders: Placeholders;
  /** Per grab width: the last grab (or the one under way), undefined when it failed. */
  private readonly grabs = new Map<number, Grab>();
  /** One warning per failure streak, not one per snapshot. */
  private grabFailing = false;

  constructor(private readonly options: SnapshotOptions) {
    this.placeholders = new Placeholders(options.ffmpegPath, options.signal);
  }

  /** A JPEG for `width`×`height`; never rejects. */
  async take(width: number, height: number): Promise<Buffer> {
    const w = clampSize(width);
    const h = clampSize(height);
    const { monitor } = this.options.receiver;
    const state = monitor.state;
    // Before the first poll the box's state is unknown: a grab will tell.
    if (monitor.polled && !state.reachable) return this.placeholders.picture('UNREACHABLE', w, h);
    if (state.power === 'standby') return this.placeholders.picture('IN STANDBY', w, h);
    const fromSession = await this.fromSession(state.channel?.ref, w, h);
    if (fromSession) return fromSession;
    const grabbed = await this.withinBudget(this.grab(w));
    if (grabbed) return grabbed;
    const text: PlaceholderText = monitor.polled && !monitor.state.reachable ? 'UNREACHABLE' : monitor.state.power === 'standby' ? 'IN STANDBY' : 'NO PICTURE';
    return this.placeholders.picture(text, w, h);
  }

  /** One frame of the running session of `ref`, if the proxy streams it and ffmpeg decodes it in time. */
  private async fromSession(ref: string | undefined, width: number, height: number): Promise<Buffer | undefined> {
    const parsed = ref ? tryParseServiceRef(ref) : undefined;
    const session = parsed ? this.options.sessions.find(parsed) : undefined;
    if (!session || session.state !== 'running' || this.options.ffmpegPath === '') return undefined;
    const start = session.keyframeStart();
    if (!start) return undefined;
    const inspector = new TsInspector(parsed?.sid);
    inspector.push(start.subarray(0, TS_PACKET_SIZE * 4));
    const input = start.subarray(0, Math.floor(Math.min(start.length, CAMERA_FRAME_INPUT_MAX_BYTES) / TS_PACKET_SIZE) * TS_PACKET_SIZE);
    try {
      return await runFfmpegOnce({
        ffmpegPath: this.options.ffmpegPath, args: frameArgs(width, height, inspector.pmt?.program), input,
        timeoutMs: CAMERA_FRAME_DECODE_TIMEOUT_MS, maxOutputBytes: CAMERA_JPEG_MAX_BYTES,
        label: `The snapshot of ${session.channel.name}`, signal: this.options.signal,
      });
    } catch (error) {
      // Radio has no picture, and a GOP cut short may not decode: the box's grab is next.
      this.options.log.debug((error as Error).message);
      return undefined;
    }
  }

  /** The box's grab at the width bucket for `width`, shared and reused for the cache time. */
  private grab(width: number): Promise<Buffer | undefined> {
    const bucket = CAMERA_GRAB_WIDTHS.find((w) => w >= width) ?? CAMERA_GRAB_WIDTHS[CAMERA_GRAB_WIDTHS.length - 1];
    const now = Date.now();
    const cached = this.grabs.get(bucket);
    if (cached && now - cached.at < (this.options.grabCacheMs ?? CAMERA_GRAB_CACHE_MS)) return cached.picture;
    const { receiver, log } = this.options;
    const picture = receiver.client.grab(bucket).then(
      (jpeg) => {
        this.grabFailing = false;
        return jpeg;
      },
      (error: unknown) => {
        if (!this.grabFailing && !this.options.signal.aborted) log.debug(`${receiver.name}: no snapshot from the box's /grab: ${(error as Error).message}`);
        this.grabFailing = true;
        return undefined;
      },
    );
    // A failure is kept as long as a picture: a box that cannot grab must not be asked every time.
    this.grabs.set(bucket, { at: now, picture });
    return picture;
  }

  /** `work`'s result, or undefined when it takes longer than the budget (it still fills the cache). */
  private withinBudget<T>(work: Promise<T | undefined>): Promise<T | undefined> {
    const { signal } = this.options;
    return new Promise((resolve) => {
      const done = (value: T | undefined): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', stop);
        resolve(value);
      };
      // Shutting down: the placeholder at once, and no timer left behind.
      const stop = (): void => done(undefined);
      const timer = setTimeout(stop, this.options.budgetMs ?? CAMERA_SNAPSHOT_BUDGET_MS);
      if (signal.aborted) return stop();
      signal.addEventListener('abort', stop, { once: true });
      void work.then(done);
    });
  }
}

function clampSize(n: number): number {
  return Number.isFinite(n) ? Math.min(CAMERA_SIZE_MAX, Math.max(CAMERA_SIZE_MIN, Math.round(n))) : 640;
}
