// The HomeKit camera's live view against the simulator, with real ffmpeg on both ends: the view
// streams the channel on screen over SRTP, a receiving ffmpeg decrypts it with the keys from an SDP
// file as a HomeKit controller would, and ffprobe finds H.264 and the audio in what it recorded.
// The view is a client of the proxy's session (one upstream with a proxy viewer), follows zaps, is
// counted against camera.maxStreams, and leaves no ffmpeg behind.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DAS_ERSTE_HD, fetchBytes, processAlive, Stack, until, ZDF_HD } from '../helpers/stack';
import { feedOf, cameraFfmpegs, freePortPairs, liveRequest, probeRecording, receive, sdpFor, startCameraStack } from './helpers';

jest.setTimeout(90_000);

describe('camera live view', () => {
  let stack: Stack;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xg2g-camera-live-'));
    stack = await startCameraStack({ block: { camera: { maxStreams: 1 } } });
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts a view and a receiver for it; records `seconds` and returns what ffprobe finds. */
  async function watch(seconds: number, video: Parameters<typeof liveRequest>[2] = {}, during?: () => Promise<void>) {
    const [videoPort, audioPort] = await freePortPairs(2);
    const request = liveRequest(videoPort, audioPort, video);
    const sdp = join(dir, `view-${videoPort}.sdp`);
    const out = join(dir, `view-${videoPort}.mkv`);
    writeFileSync(sdp, sdpFor(request));
    // The receiver listens first, as the iPhone does before it asks the accessory to start.
    const receiver = receive(sdp, out, seconds);
    await new Promise((r) => setTimeout(r, 500));
    const view = await feedOf(stack).startLiveView(request);
    const ended: string[] = [];
    view.on('ended', (reason) => ended.push(reason));
    try {
      await until(() => view.pids.length > 0, 15_000, 'the live view\'s ffmpeg');
      await during?.();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('the receiving ffmpeg did not finish')), (seconds + 30) * 1000); });
      const result = await Promise.race([receiver.done, late]).finally(() => clearTimeout(timer));
      expect(result.stderr).not.toMatch(/HMAC|auth/i);
      return { view, streams: await probeRecording(out), ended };
    } finally {
      receiver.kill();
      await view.stop();
    }
  }

  it('streams the channel on screen over SRTP that a HomeKit-style receiver decrypts (H.264 encoded + Opus)', async () => {
    const { view, streams, ended } = await watch(4, { width: 640, height: 360, maxBitrateKbps: 800 });
    const video = streams.find((s) => s.codec_type === 'video');
    const audio = streams.find((s) => s.codec_type === 'audio');
    expect(video).toMatchObject({ codec_name: 'h264', width: 640, height: 360 });
    expect(Number(video?.nb_read_frames)).toBeGreaterThan(10);
    expect(audio?.codec_name).toBe(feedOf(stack).audioCodecs[0] === 'AAC-eld' ? 'aac' : 'opus');
    expect(Number(audio?.nb_read_frames)).toBeGreaterThan(10);
    expect(ended).toEqual([]);
    expect(view.pids).toEqual([]);
    expect(feedOf(stack).activeLiveViews).toBe(0);
  });

  it('copies the channel\'s H.264 when the viewer asks for as much, and shares the proxy viewer\'s upstream', async () => {
    // A proxy viewer first: the session runs, so its bitrate is known when the view decides.
    const watching = fetchBytes(`${stack.url}/${DAS_ERSTE_HD}`, Infinity, 14_000);
    await until(() => (stack.app.streams[0].sessions.list()[0]?.status().bitrateIn ?? 0) > 0, 20_000, 'the proxy viewer\'s session');
    const upstreams: number[] = [];
    const { streams } = await watch(3, { width: 1920, height: 1080, maxBitrateKbps: 8000 }, async () => {
      upstreams.push(stack.sim.activeStreams().length);
    });
    expect(upstreams).toEqual([1]);
    expect(stack.app.streams[0].sessions.list()).toHaveLength(1);
    // Copied: the channel's own 1280x720, not scaled to what was asked.
    expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 1280, height: 720 });
    expect(stack.logs.some((l) => /Live view of Test Box .*video copied/.test(l))).toBe(true);
    await watching;
  });

  it('refuses a view over camera.maxStreams with a sentence, and stop() leaves no ffmpeg', async () => {
    const [videoPort, audioPort, videoPort2, audioPort2] = await freePortPairs(4);
    const feed = feedOf(stack);
    const view = await feed.startLiveView(liveRequest(videoPort, audioPort));
    await until(() => view.pids.length > 0, 15_000, 'the live view\'s ffmpeg');
    const [pid] = view.pids;
    expect(feed.activeLiveViews).toBe(1);
    await expect(feed.startLiveView(liveRequest(videoPort2, audioPort2))).rejects.toThrow(/1 live view\(s\) already run, the limit set by camera\.maxStreams/);
    await view.stop();
    expect(processAlive(pid)).toBe(false);
    // The session's own ffmpeg (the audio splice) may linger a moment for the next viewer; no view's does.
    expect(await cameraFfmpegs()).toEqual([]);
    expect(feed.activeLiveViews).toBe(0);
  });

  it('follows a zap to the new channel with the same SRTP stream', async () => {
    const switched: boolean[] = [];
    const { streams, ended } = await watch(8, {}, async () => {
      const before = stack.app.streams[0].sessions.list().map((s) => s.channel.ref.ref);
      expect(before).toEqual([DAS_ERSTE_HD]);
      stack.sim.setState({ channelRef: ZDF_HD });
      await until(() => stack.app.streams[0].sessions.list().some((s) => s.channel.ref.ref === ZDF_HD && s.clientCount > 0), 15_000, 'the view to move to ZDF HD');
      switched.push(true);
    });
    stack.sim.setState({ channelRef: DAS_ERSTE_HD });
    expect(switched).toEqual([true]);
    expect(ended).toEqual([]);
    // Both channels' pictures went through one receiver that never restarted.
    expect(streams.find((s) => s.codec_type === 'video')?.codec_name).toBe('h264');
    expect(stack.logs.some((l) => /live view of Test Box follows the box to ZDF HD/.test(l))).toBe(true);
  });

  it('refuses to start while the box is in standby, and ends a running view when it goes there', async () => {
    const [videoPort, audioPort] = await freePortPairs(2);
    const feed = feedOf(stack);
    const view = await feed.startLiveView(liveRequest(videoPort, audioPort));
    const ended: string[] = [];
    view.on('ended', (reason) => ended.push(reason));
    await until(() => view.pids.length > 0, 15_000, 'the live view\'s ffmpeg');
    const [pid] = view.pids;
    stack.sim.setState({ power: 'standby' });
    try {
      await until(() => ended.length > 0, 15_000, 'the view to end');
      expect(ended).toEqual([expect.stringMatching(/Test Box went to standby/)]);
      await until(() => !processAlive(pid), 5_000, 'its ffmpeg to exit');
      await expect(feed.startLiveView(liveRequest(videoPort, audioPort))).rejects.toThrow(/Test Box is in standby/);
      expect(feed.activeLiveViews).toBe(0);
    } finally {
      stack.sim.setState({ power: 'on' });
    }
  });
});
