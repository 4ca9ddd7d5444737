/**
 * HAP's camera delegate for one receiver's camera: snapshots and live views, both from the
 * receiver's CameraFeed. HAP calls each handler with a callback; every path here calls it exactly
 * once and never throws. Live views are CameraSessions by HAP session id: START asks the feed for a
 * view, STOP ends it, a view that ends on its own or whose viewer went silent is ended in HAP too
 * (forceStopStreamingSession), and stop() ends them all (Homebridge shutdown).
 *
 * RECONFIGURE (the Home app asks another bitrate as the network changes, rarely another size) is
 * answered and otherwise ignored; the view goes on as started, and the Home app scales the picture.
 * A restart is no option: a new view would start SRTP's packet index again under the same keys, so
 * the Home app would drop its packets as replays and two packets would share a keystream.
 */
import type {
  AudioInfo, CameraController, CameraStreamingDelegate, HAP, PrepareStreamCallback, PrepareStreamRequest, SnapshotRequest,
  SnapshotRequestCallback, StreamingRequest, StreamRequestCallback, VideoInfo,
} from 'homebridge';
import { Logger, sentences } from '../logger';
import { LogOnce } from '../retry';
import { CAMERA_VIEWER_SILENCE_MS } from '../settings';
import type { CameraFeed } from '../stream/camera-feed';
import { CameraSession } from './camera-session';

type Callback<A extends unknown[]> = (...args: A) => void;

/** The callback, callable once; later calls (a bug, or a race) are dropped instead of confusing HAP. */
function once<A extends unknown[]>(fn: Callback<A>): Callback<A> {
  let called = false;
  return (...args: A) => {
    if (called) return;
    called = true;
    try {
      fn(...args);
    } catch {
      // HAP answers the Home app inside the callback; its own failure must not become ours.
    }
  };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class CameraDelegate implements CameraStreamingDelegate {
  private readonly sessions = new Map<string, CameraSession>();
  private controller: CameraController | undefined;
  private readonly failures: LogOnce;
  private stopped = false;

  constructor(private readonly hap: HAP, private readonly log: Logger, private readonly name: string, private readonly feed: CameraFeed) {
    this.failures = new LogOnce((line) => log.warn(line));
  }

  /** The controller this delegate serves (made after it, since the controller takes the delegate). */
  attach(controller: CameraController): void {
    this.controller = controller;
  }

  handleSnapshotRequest(request: SnapshotRequest, callback: SnapshotRequestCallback): void {
    const reply = once(callback);
    // The feed never rejects (a placeholder image at worst); a rejection anyway is answered, not thrown.
    Promise.resolve()
      .then(() => this.feed.snapshot(request.width, request.height))
      .then((image) => reply(undefined, image), (error: unknown) => {
        this.failures.say(sentences(`${this.name}: a snapshot failed: ${message(error)}`));
        reply(error instanceof Error ? error : new Error(message(error)));
      });
  }

  prepareStream(request: PrepareStreamRequest, callback: PrepareStreamCallback): void {
    const reply = once(callback);
    void (async () => {
      if (this.stopped) throw new Error('Homebridge is shutting down');
      // The same id again (HAP reuses none, but a stale one must not leak its ports).
      this.end(request.sessionID);
      const session = await CameraSession.prepare(request);
      if (this.stopped) {
        session.close();
        throw new Error('Homebridge is shutting down');
      }
      this.sessions.set(request.sessionID, session);
      reply(undefined, await session.response());
    })().catch((error: unknown) => {
      this.failures.say(sentences(`${this.name}: a live view could not be prepared: ${message(error)}`));
      this.end(request.sessionID);
      reply(error instanceof Error ? error : new Error(message(error)));
    });
  }

  handleStreamRequest(request: StreamingRequest, callback: StreamRequestCallback): void {
    const reply = once(callback);
    try {
      if (request.type === this.hap.StreamRequestTypes.START) {
        void this.start(request.sessionID, request.video, request.audio, reply);
      } else if (request.type === this.hap.StreamRequestTypes.RECONFIGURE) {
        // See the header: the running view keeps its size and bitrate.
        this.log.debug(`${this.name}: the Home app asked for ${request.video.width}x${request.video.height} at ${request.video.fps} fps, `
          + `${request.video.max_bit_rate} kbit/s; the live view keeps its first settings.`);
        reply();
      } else {
        // STOP: HAP has closed its side already; the answer need not wait for the encoder to end.
        this.end(request.sessionID);
        reply();
      }
    } catch (error) {
      reply(error instanceof Error ? error : new Error(message(error)));
    }
  }

  /** Ends every live view (Homebridge shutdown); later requests are refused. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.sessions.keys()].map((id) => this.end(id)));
  }

  private async start(id: string, video: VideoInfo, audio: AudioInfo, reply: StreamRequestCallback): Promise<void> {
    const session = this.sessions.get(id);
    if (!session || session.ended) {
      reply(new Error(`${this.name}: the live view was not prepared, or has ended`));
      return;
    }
    try {
      const view = await this.feed.startLiveView(session.liveViewRequest(video, audio));
      if (session.ended || this.sessions.get(id) !== session) {
        // STOP (or the shutdown) came while the feed started: this view has no viewer.
        await view.stop().catch(() => undefined);
        reply(new Error(`${this.name}: the live view was stopped while it started`));
        return;
      }
      session.view = view;
      // The feed logs why its view ended; the silent viewer is this side's finding, so said here.
      view.on('ended', (reason: string) => this.ended(id, view, () => this.log.debug(`${this.name}: HomeKit's live view session closed: ${reason}`)));
      session.watchViewer(CAMERA_VIEWER_SILENCE_MS, () => this.ended(id, view, () => this.log.info(
        `${this.name}: the live view ended: the Home app stopped reporting for ${CAMERA_VIEWER_SILENCE_MS / 1000} s, so its viewer has gone.`)));
      this.failures.clear();
      this.log.debug(`${this.name}: live view started for the Home app at ${video.width}x${video.height}, ${video.fps} fps, at most ${video.max_bit_rate} kbit/s.`);
      reply();
    } catch (error) {
      this.failures.say(sentences(`${this.name}: the live view could not start: ${message(error)}`));
      // HAP closes its session after an error without telling the delegate: clean up here.
      this.end(id);
      reply(error instanceof Error ? error : new Error(message(error)));
    }
  }

  /** A view ended by itself or its viewer went silent: ended in HAP too, and said once by `say`. */
  private ended(id: string, view: NonNullable<CameraSession['view']>, say: () => void): void {
    const session = this.sessions.get(id);
    if (!session || session.view !== view) return;
    say();
    void this.end(id);
    try {
      this.controller?.forceStopStreamingSession(id);
    } catch {
      // Only HAP's bookkeeping; the view itself has ended.
    }
  }

  /** Forgets the session, closes its ports and stops its view (never rejects). */
  private end(id: string): Promise<void> {
    const session = this.sessions.get(id);
    if (!session) return Promise.resolve();
    this.sessions.delete(id);
    session.close();
    const view = session.view;
    session.view = undefined;
    if (!view) return Promise.resolve();
    return view.stop().catch((error: unknown) => {
      this.log.warn(sentences(`${this.name}: stopping a live view failed: ${message(error)}`));
    });
  }
}
