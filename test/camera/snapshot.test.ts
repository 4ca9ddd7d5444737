// The HomeKit camera's still pictures, against the simulator over HTTP and real ffmpeg/ffprobe:
// from the proxy's running session without asking the box, else from the box's /grab (reused for
// the cache time), else a generated placeholder.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DAS_ERSTE_HD, fetchBytes, Stack, until } from '../helpers/stack';
import { feedOf, imageSize, isJpeg, startCameraStack } from './helpers';

jest.setTimeout(60_000);

describe('camera snapshots', () => {
  let stack: Stack;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xg2g-camera-'));
    stack = await startCameraStack();
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const grabs = (): number => stack.sim.requests.filter((r) => r.path === '/grab').length;
  const streamRequests = (): number => stack.sim.requests.filter((r) => r.listener !== 'web').length;

  it('decodes the channel on screen from the running session, with no request to the box', async () => {
    // A viewer watches the channel the box shows; its session holds the GOP the snapshot decodes.
    const watching = fetchBytes(`${stack.url}/${DAS_ERSTE_HD}`, Infinity, 8_000);
    const session = (): ReturnType<typeof stack.app.streams[0]['sessions']['find']> => stack.app.streams[0].sessions.list()[0];
    await until(() => session()?.keyframeStart() !== undefined, 20_000, 'the session to cache a keyframe');
    stack.sim.clearRequests();

    const jpeg = await feedOf(stack).snapshot(640, 360);
    expect(isJpeg(jpeg)).toBe(true);
    // The channel is 1280x720: fit into 640x360 keeps it 16:9.
    expect(await imageSize(jpeg, dir)).toEqual({ width: 640, height: 360 });
    expect(streamRequests()).toBe(0);
    expect(grabs()).toBe(0);
    await watching;
  });

  it('takes the box\'s /grab when no session runs, and reuses it within the cache time', async () => {
    await until(() => stack.app.streams[0].sessions.list().length === 0, 15_000, 'the session to end');
    stack.sim.clearRequests();
    const feed = feedOf(stack);
    // Two at once share one fetch; a third a moment later is answered from the cache.
    const [first, second] = await Promise.all([feed.snapshot(640, 360), feed.snapshot(600, 338)]);
    const third = await feed.snapshot(640, 360);
    for (const jpeg of [first, second, third]) expect(isJpeg(jpeg)).toBe(true);
    expect(third.equals(first)).toBe(true);
    expect((await imageSize(first, dir)).width).toBe(640);
    expect(grabs()).toBe(1);
    expect(stack.sim.requests.find((r) => r.path === '/grab')?.query).toEqual({ format: 'jpg', r: '640' });
    expect(streamRequests()).toBe(0);
  });

  it('shows a placeholder while the box is in standby, without asking it for a picture', async () => {
    stack.sim.setState({ power: 'standby' });
    await until(() => stack.app.receivers[0].monitor.state.power === 'standby', 10_000, 'standby to be seen');
    stack.sim.clearRequests();
    const jpeg = await feedOf(stack).snapshot(480, 270);
    expect(isJpeg(jpeg)).toBe(true);
    expect(await imageSize(jpeg, dir)).toEqual({ width: 480, height: 270 });
    expect(grabs()).toBe(0);
    // The same size again comes from the placeholder cache: the same bytes.
    expect((await feedOf(stack).snapshot(480, 270)).equals(jpeg)).toBe(true);
    stack.sim.setState({ power: 'on' });
  });

  it('shows a placeholder when the box is unreachable', async () => {
    stack.sim.setFault('refuse');
    try {
      await until(() => !stack.app.receivers[0].monitor.state.reachable, 15_000, 'the box to be seen unreachable');
      const jpeg = await feedOf(stack).snapshot(320, 180);
      expect(isJpeg(jpeg)).toBe(true);
      expect(await imageSize(jpeg, dir)).toEqual({ width: 320, height: 180 });
    } finally {
      stack.sim.setFault(null);
    }
  });
});
