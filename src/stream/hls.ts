/**
 * HLS for Apple devices, which cannot play a progressive TS stream. An HLS session is a local
 * client of the channel's TS session (same upstream, same AAC encode, so no second tuner) whose
 * bytes an in-memory segmenter cuts into 2 s segments at keyframes: no ffmpeg, no temporary files.
 * HLS players poll instead of holding a connection, so a session ends after it has had no request
 * for a while.
 *
 * Routes served here: /hls/<ref>/index.m3u8 (master), /hls/<ref>/media.m3u8, /hls/<ref>/segNNNNN.ts.
 */
import { readdir, rm } from 'node:fs/promises';
import { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '../logger';
import { channelId, ServiceRef } from '../receiver/service-ref';
import { HLS_MEDIA_PLAYLIST, HLS_READY_TIMEOUT_MS } from '../settings';
import { ClientSink } from './client-sink';
import { text } from './http-reply';
import { masterPlaylist, segmentCodecs } from './hls-playlist';
import { HlsSegmenter, mediaPlaylist } from './hls-segmenter';
import { StreamClient } from './stream-client';
import { StreamError } from './stream-error';

const SEGMENT_NAME = /^seg\d{5}\.ts$/;

/**
 * Removes the segment folders (`xg2g-hls-*` in the temp folder) that earlier versions, which
 * segmented with ffmpeg on disk, left behind when they crashed. Resolves to how many were removed.
 */
export async function removeLeftoverHlsFolders(dir = tmpdir()): Promise<number> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => /^xg2g-hls-[A-Za-z0-9]{6}$/.test(n));
  await Promise.all(names.map((n) => rm(join(dir, n), { recursive: true, force: true }).catch(() => undefined)));
  return names.length;
}

/** The files an HLS client may ask for; anything else is 404 without touching the session. */
export function isHlsFile(name: string): boolean {
  return name === 'index.m3u8' || name === HLS_MEDIA_PLAYLIST || SEGMENT_NAME.test(name);
}

export interface HlsStatus {
  channel: { name: string; ref: string };
  segments: number;
}

export interface HlsOptions {
  idleMs: number;
  log: Logger;
  /** Attaches a local client to the channel's TS session (starting it when needed). */
  join: (ref: ServiceRef, sink: ClientSink, peer: string) => StreamClient | StreamError;
  channelName: (ref: ServiceRef) => string;
}

class HlsSession {
  readonly segmenter = new HlsSegmenter();
  private failure: StreamError | undefined;
  private readonly idleTimer: NodeJS.Timeout;
  private client: StreamClient | undefined;
  /** Requests being answered: a player waiting for the first segment is not idle. */
  private pending = 0;
  /** RFC 6381 codec names, read once from the first segment (a channel keeps its codecs). */
  private codecs: string[] | undefined;
  /** Requests waiting for the first segment, woken when it is there or the session stops. */
  private waiters: Array<() => void> = [];
  stopped = false;

  constructor(readonly ref: ServiceRef, private readonly options: HlsOptions, private readonly onStop: () => void) {
    this.idleTimer = setTimeout(() => this.onIdle(), options.idleMs);
  }

  /** Joins the channel's TS session; a refusal (the tuner limit) stops this session at once. */
  start(): void {
    const joined = this.options.join(this.ref, this.sink(), 'HLS segmenter');
    if (joined instanceof StreamError) this.fail(joined);
    else this.client = joined;
  }

  /** Looked up on use: a session may start before the channel list has loaded. */
  get channelName(): string {
    return this.options.channelName(this.ref);
  }

  /** Runs `answer` as one player request; the session is not idle while any is under way. */
  async request(answer: () => Promise<void>): Promise<void> {
    this.pending++;
    this.idleTimer.refresh();
    try {
      await answer();
    } finally {
      this.pending--;
      this.idleTimer.refresh();
    }
  }

  /** Resolves once the first segment is complete; rejects with why the stream could not start. */
  ready(): Promise<void> {
    if (this.segmenter.listed.length > 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.segmenter.listed.length > 0) resolve();
        else reject(this.failure ?? new StreamError('busy', `HLS for ${this.channelName} stopped`));
      };
      const timer = setTimeout(() => {
        reject(new StreamError('upstream', `no HLS segment of ${this.channelName} within ${HLS_READY_TIMEOUT_MS / 1000} s`));
      }, HLS_READY_TIMEOUT_MS);
      if (this.stopped) return done();
      this.waiters.push(done);
    });
  }

  masterPlaylist(query: string): string {
    const first = this.segmenter.listed[0];
    if (first) this.codecs ??= segmentCodecs(first.data).codecs;
    const bandwidth = Math.max(0, ...this.segmenter.listed.map((s) => Math.round((s.data.length * 8) / Math.max(s.duration, 0.1))));
    return masterPlaylist(bandwidth, this.codecs ?? [], `${HLS_MEDIA_PLAYLIST}${query}`);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.idleTimer);
    this.client?.end();
    this.wakeWaiters();
    this.onStop();
  }

  private wakeWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private fail(error: StreamError): void {
    this.failure ??= error;
    this.stop();
  }

  private onIdle(): void {
    if (this.pending > 0) {
      this.idleTimer.refresh();
      return;
    }
    this.options.log.info(`Stopped HLS for ${this.channelName}: no player asked for it for ${this.options.idleMs / 1000} s.`);
    this.stop();
  }

  /** The TS session's bytes go straight into the segmenter; nothing queues. */
  private sink(): ClientSink {
    let begun = false;
    const closeListeners: Array<() => void> = [];
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      for (const listener of closeListeners.splice(0)) listener();
    };
    return {
      writableLength: 0,
      get begun() {
        return begun;
      },
      write: (data) => {
        begun = true;
        this.segmenter.push(data);
        if (this.waiters.length > 0 && this.segmenter.listed.length > 0) this.wakeWaiters();
      },
      end: (error) => {
        close();
        this.fail(error ?? new StreamError('busy', `the stream of ${this.channelName} ended`));
      },
      destroy: close,
      onClose: (listener) => void closeListeners.push(listener),
    };
  }
}

export class HlsManager {
  private readonly sessions = new Map<string, HlsSession>();

  constructor(private readonly options: HlsOptions) {}

  get count(): number {
    return this.sessions.size;
  }

  /** The running HLS sessions, for status output and tests. */
  list(): HlsStatus[] {
    return [...this.sessions.values()].map((s) => ({ channel: { name: s.channelName, ref: s.ref.ref }, segments: s.segmenter.listed.length }));
  }

  /**
   * Answers one HLS request for a channel, starting its HLS session on the first playlist request.
   * `query` is appended to the URLs in the playlists (the access token of a tokened request).
   */
  async serve(ref: ServiceRef, file: string, head: boolean, response: ServerResponse, query = ''): Promise<void> {
    const id = channelId(ref);
    let session = this.sessions.get(id);
    if (!session) {
      if (file !== 'index.m3u8' && file !== HLS_MEDIA_PLAYLIST) return notFound(response);
      // HEAD tunes nothing, as for the TS route.
      if (head) return send(response, 'application/vnd.apple.mpegurl', Buffer.alloc(0), true);
      const created: HlsSession = new HlsSession(ref, this.options, () => {
        if (this.sessions.get(id) === created) this.sessions.delete(id);
      });
      // A session that cannot join (the tuner limit) stops at once and removes itself again.
      this.sessions.set(id, created);
      created.start();
      session = created;
    }
    const hls = session;
    await hls.request(async () => {
      try {
        await hls.ready();
      } catch (error) {
        const failure = error instanceof StreamError ? error : new StreamError('upstream', (error as Error).message);
        return text(response, failure.httpStatus, failure.message);
      }
      if (file === 'index.m3u8') return send(response, 'application/vnd.apple.mpegurl', Buffer.from(hls.masterPlaylist(query)), head);
      if (file === HLS_MEDIA_PLAYLIST) return send(response, 'application/vnd.apple.mpegurl', Buffer.from(mediaPlaylist(hls.segmenter.listed, query)), head);
      const segment = hls.segmenter.segment(file);
      if (!segment) return notFound(response);
      send(response, 'video/mp2t', segment.data, head);
    });
  }

  async stopAll(): Promise<void> {
    for (const session of [...this.sessions.values()]) session.stop();
  }
}

function send(response: ServerResponse, type: string, body: Buffer, head: boolean): void {
  // Playlists change every segment; segments never change once listed.
  const cache = type === 'video/mp2t' ? 'max-age=60' : 'no-cache';
  response.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, 'Cache-Control': cache });
  response.end(head ? undefined : body);
}

function notFound(response: ServerResponse): void {
  text(response, 404, 'no such HLS file (the session may have ended: reload the playlist)');
}
