/**
 * HLS for Apple devices, which cannot play a progressive TS stream. An HLS session is a local
 * client of the channel's TS session (same upstream, same AAC encode) feeding a copy-only ffmpeg
 * that cuts 2 s segments into a temporary folder. HLS players poll instead of holding a connection,
 * so a session ends after it has had no request for a while, and its folder is removed.
 *
 * Routes served here: /hls/<ref>/index.m3u8 (master, ours), /hls/<ref>/media.m3u8 (ffmpeg's),
 * /hls/<ref>/segNNNNN.ts.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '../logger';
import { channelId, ServiceRef } from '../receiver/service-ref';
import { HLS_MEDIA_PLAYLIST, HLS_READY_POLL_MS, HLS_READY_TIMEOUT_MS } from '../settings';
import { ClientSink, pipeSink } from './client-sink';
import { hlsArgs } from './ffmpeg-args';
import { text } from './http-reply';
import { FfmpegProcess } from './ffmpeg-process';
import { masterPlaylist, peakBandwidth, segmentCodecs } from './hls-playlist';
import { StreamClient } from './stream-client';
import { StreamError } from './stream-error';

const SEGMENT_NAME = /^seg\d{5}\.ts$/;

/** The files an HLS client may ask for; anything else is 404 without touching the disk. */
export function isHlsFile(name: string): boolean {
  return name === 'index.m3u8' || name === HLS_MEDIA_PLAYLIST || SEGMENT_NAME.test(name);
}

export interface HlsStatus {
  channel: { name: string; ref: string };
  ffmpegPid: number | null;
  /** The session's temporary folder. */
  dir: string;
}

export interface HlsOptions {
  ffmpegPath: string;
  idleMs: number;
  log: Logger;
  /** Attaches a local client to the channel's TS session (starting it when needed). */
  join: (ref: ServiceRef, sink: ClientSink, peer: string) => StreamClient | StreamError;
  channelName: (ref: ServiceRef) => string;
}

class HlsSession {
  readonly dir = mkdtempSync(join(tmpdir(), 'xg2g-hls-'));
  private readonly ffmpeg: FfmpegProcess;
  private failure: StreamError | undefined;
  private idleTimer: NodeJS.Timeout;
  private master: string | undefined;
  /** Requests being answered: a player waiting for the first segment is not idle. */
  private pending = 0;
  stopped = false;

  constructor(readonly ref: ServiceRef, private readonly options: HlsOptions, private readonly onStop: () => void) {
    const name = this.channelName;
    this.ffmpeg = new FfmpegProcess(options.ffmpegPath, hlsArgs(this.dir), { label: `${name} (HLS)`, log: (l) => options.log.warn(l) });
    this.ffmpeg.child.stdout.resume();
    this.ffmpeg.on('exit', () => {
      this.failure ??= new StreamError('ffmpeg', `the HLS segmenter for ${this.channelName} stopped`);
      void this.stop();
    });
    const joined = options.join(ref, pipeSink(this.ffmpeg.child.stdin, (error) => {
      if (error) this.failure = error;
    }), 'HLS segmenter');
    if (joined instanceof StreamError) this.failure = joined;
    this.idleTimer = setTimeout(() => this.onIdle(), options.idleMs);
    if (this.failure) void this.stop();
  }

  get ffmpegPid(): number | undefined {
    return this.ffmpeg.running ? this.ffmpeg.pid : undefined;
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

  private onIdle(): void {
    if (this.pending > 0) {
      this.idleTimer.refresh();
      return;
    }
    this.options.log.info(`Stopped HLS for ${this.channelName}: no player asked for it for ${this.options.idleMs / 1000} s.`);
    void this.stop();
  }

  /** Resolves once the first segment is listed; rejects with why the stream could not start. */
  async ready(): Promise<void> {
    const deadline = Date.now() + HLS_READY_TIMEOUT_MS;
    while (!this.hasSegment()) {
      if (this.failure || this.stopped) throw this.failure ?? new StreamError('busy', `HLS for ${this.channelName} stopped`);
      if (Date.now() > deadline) throw new StreamError('upstream', `no HLS segment of ${this.channelName} within ${HLS_READY_TIMEOUT_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, HLS_READY_POLL_MS));
    }
  }

  masterPlaylist(): string {
    if (!this.master) {
      const media = this.read(HLS_MEDIA_PLAYLIST)?.toString('utf8') ?? '';
      const first = media.split('\n').find((l) => SEGMENT_NAME.test(l.trim()))?.trim();
      const codecs = first ? segmentCodecs(this.read(first) ?? Buffer.alloc(0)).codecs : [];
      const bandwidth = peakBandwidth(media, (segment) => this.size(segment));
      this.master = masterPlaylist(bandwidth, codecs, HLS_MEDIA_PLAYLIST);
    }
    return this.master;
  }

  read(name: string): Buffer | undefined {
    try {
      return readFileSync(join(this.dir, name));
    } catch {
      return undefined;
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.idleTimer);
    await this.ffmpeg.stop();
    rmSync(this.dir, { recursive: true, force: true });
    this.onStop();
  }

  private hasSegment(): boolean {
    const media = join(this.dir, HLS_MEDIA_PLAYLIST);
    return existsSync(media) && readFileSync(media, 'utf8').includes('#EXTINF');
  }

  private size(name: string): number | undefined {
    try {
      return statSync(join(this.dir, name)).size;
    } catch {
      return undefined;
    }
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
    return [...this.sessions.values()].map((s) => ({ channel: { name: s.channelName, ref: s.ref.ref }, ffmpegPid: s.ffmpegPid ?? null, dir: s.dir }));
  }

  /** Answers one HLS request for a channel, starting its HLS session on the first playlist request. */
  async serve(ref: ServiceRef, file: string, head: boolean, response: ServerResponse): Promise<void> {
    const id = channelId(ref);
    let session = this.sessions.get(id);
    if (!session) {
      if (file !== 'index.m3u8' && file !== HLS_MEDIA_PLAYLIST) return notFound(response);
      // HEAD tunes nothing, as for the TS route.
      if (head) return send(response, 'application/vnd.apple.mpegurl', Buffer.alloc(0), true);
      session = new HlsSession(ref, this.options, () => {
        if (this.sessions.get(id) === session) this.sessions.delete(id);
      });
      this.sessions.set(id, session);
    }
    const hls = session;
    await hls.request(async () => {
      try {
        await hls.ready();
      } catch (error) {
        const failure = error instanceof StreamError ? error : new StreamError('upstream', (error as Error).message);
        return text(response, failure.httpStatus, failure.message);
      }
      if (file === 'index.m3u8') return send(response, 'application/vnd.apple.mpegurl', Buffer.from(hls.masterPlaylist()), head);
      const body = hls.read(file);
      if (!body) return notFound(response);
      send(response, file.endsWith('.ts') ? 'video/mp2t' : 'application/vnd.apple.mpegurl', body, head);
    });
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.stop()));
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
