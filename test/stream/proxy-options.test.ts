// Proxy options against the simulator: forced audio modes, the per-channel client limit, and the
// 17999 relay that refuses connects for a while after the box answers.
import { DAS_ERSTE_HD, fetchBytes, SERVUS_AAC, SKY_CINEMA_RELAY, startStack, streamUrl, until } from '../helpers/stack';
import { probe } from '../helpers/ffprobe';

describe('proxy options', () => {
  it('passes AC-3 through untouched with audio mode never', async () => {
    const stack = await startStack({ proxy: { audio: { mode: 'never' } } });
    try {
      const reading = fetchBytes(streamUrl(stack, DAS_ERSTE_HD), 500_000);
      await until(() => !!stack.app.streams[0].sessions.list()[0]?.mode, 15_000, 'the mode');
      const session = stack.app.streams[0].sessions.list()[0];
      expect(session.mode).toBe('passthrough');
      expect(session.ffmpegPid).toBeUndefined();
      const fetched = await reading;
      expect(fetched.status).toBe(200);
      const audio = (await probe(fetched.body)).filter((s) => s.codec_type === 'audio');
      expect(audio.map((s) => s.codec_name)).toEqual(['ac3', 'ac3']);
    } finally {
      await stack.stop();
    }
  });

  it('re-encodes even AAC audio with audio mode always', async () => {
    const stack = await startStack({ proxy: { audio: { mode: 'always', bitrate: '96k' } } });
    try {
      const reading = fetchBytes(streamUrl(stack, SERVUS_AAC), 400_000);
      await until(() => !!stack.app.streams[0].sessions.list()[0]?.mode, 15_000, 'the mode');
      expect(stack.app.streams[0].sessions.list()[0].mode).toBe('transcode');
      const audio = (await probe((await reading).body)).filter((s) => s.codec_type === 'audio');
      expect(audio).toHaveLength(1);
      expect(Number(audio[0].bit_rate)).toBeLessThan(120_000);
    } finally {
      await stack.stop();
    }
  });

  it('answers 503 naming proxy.maxClients when a channel has all its viewers', async () => {
    const stack = await startStack({ proxy: { maxClients: 2 } });
    try {
      const viewers = [fetchBytes(streamUrl(stack, DAS_ERSTE_HD), 150_000), fetchBytes(streamUrl(stack, DAS_ERSTE_HD), 150_000)];
      await until(() => stack.app.streams[0].sessions.list()[0]?.clientCount === 2, 10_000, 'two viewers');
      const third = await fetchBytes(streamUrl(stack, DAS_ERSTE_HD));
      expect(third.status).toBe(503);
      expect(third.body.toString()).toMatch(/already has 2 clients.*proxy\.maxClients/);
      for (const v of await Promise.all(viewers)) expect(v.status).toBe(200);
    } finally {
      await stack.stop();
    }
  });

  it('retries the relay while it still refuses connects', async () => {
    const stack = await startStack({ sim: { relayOpenDelayMs: 1_500 }, target: 'relay' });
    try {
      const fetched = await fetchBytes(streamUrl(stack, SKY_CINEMA_RELAY), 200_000);
      expect(fetched.status).toBe(200);
      expect(fetched.body.length).toBeGreaterThanOrEqual(200_000);
      expect(stack.sim.requests.filter((r) => r.listener === 'relay')).toHaveLength(1);
    } finally {
      await stack.stop();
    }
  });
});
