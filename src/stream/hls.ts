/**
 * HLS for Apple devices, which cannot play a progressive TS stream. An HLS session is a local
 * client of the channel's TS session (same upstream, same AAC encode, so no second tuner) whose
 * bytes an in-memory segmenter cuts into 2 s segments at keyframes (radio: at audio frames every
 * 2 s): no temporary files. Apple devices play only H.264 over HLS, so the session reads the PMT
 * of the stream it receives first: MPEG-2 video is refused with 415 and a sentence saying what to
 * do, or, with proxy.hls.transcodeVideo, encoded to H.264 by an ffmpeg the session owns
 * (hls-video.ts). HLS players poll instead of holding a connection, so a session ends after it
 * has had no request for a while.
 *
 * Routes served here: /hls/<ref>/index.m3u8 (master), /hls/<ref>/media.m3u8, /hls/<ref>/segNNNNN.ts.
 */
import { readdir, rm } from 'node:fs/promises';
import { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HlsConfig } from '../config/types';
import { Logger, sentences } from '../logger';
import { channelId, ServiceRef } from '../receiver/service-ref';
import { HLS_MEDIA_PLAYLIST, HLS_PMT_WAIT_MAX_BYTES, HLS_READY_TIMEOUT_MS, HLS_REFUSAL_MEMORY_MS } from '../settings';
import { ClientSink, localSink } from './client-sink';
import { SpawnFfmpeg } from './ffmpeg-process';
import { text } from './http-reply';
import { masterPlaylist, segmentCodecs } from './hls-playlist';
import { HlsSegmenter, mediaPlaylist } from './hls-segmenter';
import { HlsVideoEncoder } from './hls-video';
import { StreamClient } from './stream-client';
import { StreamError } from './stream-error';
import { TsInspector } from './ts-inspector';

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
  /** proxy.hls; the defaults (redirect on, no video encode, libx264) when not given. */
  config?: HlsConfig;
  /** ffmpeg for the MPEG-2 → H.264 encode; '' = none installed; 'ffmpeg' (from PATH) when not given. */
  ffmpegPath?: string;
  /** For tests: the encode's ffmpeg replaced by a fake. */
  spawnFfmpeg?: SpawnFfmpeg;
}

const DEFAULT_CONFIG: HlsConfig = { appleRedirect: true, transcodeVideo: false, videoEncoder: 'libx264' };

/**
 * A channel HLS cannot serve to Apple devices as it is: 415 Unsupported Media Type, with the
 * sentence saying why and what to do.
 */
export class HlsUnsupported extends StreamError {
  constructor(message: string) {
    super('invalid', message);
  }

  override get httpStatus(): number {
    return 415;
  }
}

/** What the session does with the TS it receives, decided once from its first PMT. */
type Route = 'undecided' | 'segment' | 'encode';

class HlsSession {
  readonly segmenter = new HlsSegmenter();
  private failure: StreamError | undefined;
  /** Everything the session owns (the video encode's ffmpeg) ends with this. */
  private readonly lifetime = new AbortController();
  private route: Route = 'undecided';
  /** Reads the received TS until its PMT is known (only then is copy or encode decided). */
  private probe: TsInspector | undefined;
  /** What arrived before the PMT did (normally nothing: the TS session sends PAT and PMT first). */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private encoder: HlsVideoEncoder | undefined;
  private stopping: Promise<void> | undefined;
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

  /** The video encode's ffmpeg, while one runs. */
  get ffmpegPids(): number[] {
    const pid = this.encoder?.pid;
    return pid === undefined ? [] : [pid];
  }

  masterPlaylist(query: string): string {
    const first = this.segmenter.listed[0];
    if (first) this.codecs ??= segmentCodecs(first.data).codecs;
    const bandwidth = Math.max(0, ...this.segmenter.listed.map((s) => Math.round((s.data.length * 8) / Math.max(s.duration, 0.1))));
    return masterPlaylist(bandwidth, this.codecs ?? [], `${HLS_MEDIA_PLAYLIST}${query}`);
  }

  /** Ends the session and everything it owns; resolves once its ffmpeg (if any) has exited. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopped = true;
    clearTimeout(this.idleTimer);
    this.lifetime.abort();
    // Set before onStop, which may ask for it.
    this.stopping = this.encoder?.stop() ?? Promise.resolve();
    this.client?.end();
    this.wakeWaiters();
    this.onStop();
    return this.stopping;
  }

  /** The failure that ended the session, if one did. */
  get failedWith(): StreamError | undefined {
    return this.failure;
  }

  private wakeWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Ends the session with `error`; `log` for failures of HLS's own (the TS session logs its own). */
  private fail(error: StreamError, log = false): void {
    if (this.stopped) return;
    this.failure ??= error;
    if (log) this.options.log.warn(sentences(`Stopped HLS for ${this.channelName}: ${error.message}`));
    void this.stop();
  }

  /** Bytes from the TS session: held until the PMT is known, then segmented or encoded first. */
  private receive(data: Buffer): void {
    if (this.stopped) return;
    if (this.route === 'segment') return this.segment(data);
    if (this.route === 'encode') return this.encoder?.write(data);
    // The channel's own program, as the TS session follows it (the first one when the PAT lacks it).
    this.probe ??= new TsInspector(this.ref.sid);
    this.probe.push(data);
    this.held.push(data);
    this.heldBytes += data.length;
    const pmt = this.probe.pmt;
    if (!pmt) {
      if (this.heldBytes > HLS_PMT_WAIT_MAX_BYTES) this.fail(new StreamError('upstream', `the stream of ${this.channelName} carries no program table (PMT) HLS could start from`), true);
      return;
    }
    const held = Buffer.concat(this.held);
    this.held = [];
    this.heldBytes = 0;
    this.probe = undefined;
    const video = pmt.streams.find((s) => s.kind === 'video');
    if (video?.codec !== 'mpeg2video' && video?.codec !== 'mpeg1video') {
      this.route = 'segment';
      return this.segment(held);
    }
    if (!this.startEncoder(pmt.program, video.codec === 'mpeg1video' ? 'MPEG-1' : 'MPEG-2')) return;
    this.route = 'encode';
    this.encoder!.write(held);
  }

  /**
   * MPEG-2 (or MPEG-1) video, which Apple devices do not play over HLS: refused unless
   * proxy.hls.transcodeVideo is on, then encoded to H.264. False when the session failed instead.
   */
  private startEncoder(program: number, codec: string): boolean {
    const config = this.options.config ?? DEFAULT_CONFIG;
    const ffmpegPath = this.options.ffmpegPath ?? 'ffmpeg';
    const direct = `/${this.ref.ref}`;
    if (!config.transcodeVideo) {
      this.fail(new HlsUnsupported(`${this.channelName} sends ${codec} video, and Apple devices play only H.264 over HLS: turn on proxy.hls.transcodeVideo (XG2G_HLS_TRANSCODE_VIDEO=true) to have it converted, or play ${direct} in VLC`), true);
      return false;
    }
    if (ffmpegPath === '') {
      this.fail(new StreamError('ffmpeg', `${this.channelName} sends ${codec} video, which needs ffmpeg to become H.264 for HLS, and ffmpeg is not installed: install ffmpeg (e.g. "apt install ffmpeg") or set proxy.ffmpegPath`), true);
      return false;
    }
    this.options.log.info(`Encoding the ${codec} video of ${this.channelName} to H.264 (${config.videoEncoder}) for HLS.`);
    this.encoder = new HlsVideoEncoder({
      ffmpegPath,
      encoder: config.videoEncoder,
      program,
      label: this.channelName,
      log: this.options.log,
      signal: this.lifetime.signal,
      spawn: this.options.spawnFfmpeg,
      onOutput: (chunk) => this.segment(chunk),
      onFailure: (error) => this.fail(error, true),
    });
    return true;
  }

  private segment(data: Buffer): void {
    if (this.stopped) return;
    this.segmenter.push(data);
    if (this.waiters.length > 0 && this.segmenter.listed.length > 0) this.wakeWaiters();
  }

  private onIdle(): void {
    if (this.pending > 0) {
      this.idleTimer.refresh();
      return;
    }
    this.options.log.info(`Stopped HLS for ${this.channelName}: no player asked for it for ${this.options.idleMs / 1000} s.`);
    void this.stop();
  }

  /** The TS session's bytes go straight to receive() (segmenter or encoder); nothing queues here. */
  private sink(): ClientSink {
    return localSink({
      receive: (data) => this.receive(data),
      ended: (error) => this.fail(error ?? new StreamError('busy', `the stream of ${this.channelName} ended`)),
    });
  }
}

export class HlsManager {
  private readonly sessions = new Map<string, HlsSession>();
  /** Sessions that stopped but whose ffmpeg may still be exiting: stopAll waits for them too. */
  private readonly exiting = new Set<Promise<void>>();
  /** Channels refused with 415 lately, answered again without tuning (players retry). */
  private readonly refused = new Map<string, { error: StreamError; until: number }>();

  constructor(private readonly options: HlsOptions) {}

  get count(): number {
    return this.sessions.size;
  }

  /** proxy.hls.appleRedirect: whether the TS route sends Apple players here. */
  get appleRedirect(): boolean {
    return (this.options.config ?? DEFAULT_CONFIG).appleRedirect;
  }

  /** Process ids of the running HLS sessions' ffmpeg (the MPEG-2 → H.264 encodes). */
  ffmpegPids(): number[] {
    return [...this.sessions.values()].flatMap((s) => s.ffmpegPids);
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
      const refusal = this.refused.get(id);
      if (refusal && refusal.until > Date.now()) return text(response, refusal.error.httpStatus, refusal.error.message);
      this.refused.delete(id);
      const created: HlsSession = new HlsSession(ref, this.options, () => {
        if (this.sessions.get(id) === created) this.sessions.delete(id);
        if (created.failedWith instanceof HlsUnsupported) this.refused.set(id, { error: created.failedWith, until: Date.now() + HLS_REFUSAL_MEMORY_MS });
        const exit = created.stop();
        this.exiting.add(exit);
        void exit.finally(() => this.exiting.delete(exit));
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

  /** Stops every session; resolves once every ffmpeg they started has exited. */
  async stopAll(): Promise<void> {
    await Promise.all([...[...this.sessions.values()].map((s) => s.stop()), ...this.exiting]);
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
