/**
 * Time to the first video keyframe, and where the audio starts: a client joins the same
 * real-time source at the same mid-GOP offset directly (the baseline) and through the proxy in
 * passthrough, with the audio splice and with the full ffmpeg remux. The proxy's share is the
 * difference to the direct read of the same round.
 */
const { channelRef, median, row, serveProxy, sleep } = require('../lib');
const { media, startSource } = require('../source');
const { firstKeyframe } = require('../ts-client');

const TICKS_PER_MS = 90;
/** A session lingers 500 ms after its last client: wait it out so every round starts cold. */
const COLD_MS = 900;

async function run(ctx) {
  const source = await startSource(media(ctx.smoke), { realTime: true, offsetS: 0.7 });
  const proxies = {};
  try {
    proxies.passthrough = await serveProxy(source.url, { XG2G_ENABLE_AUDIO_TRANSCODING: 'false' });
    proxies.splice = await serveProxy(source.url, { XG2G_AUDIO_ENGINE: 'splice' });
    proxies.ffmpeg = await serveProxy(source.url, { XG2G_AUDIO_ENGINE: 'ffmpeg' });
    const ref = channelRef(1);
    const rounds = ctx.smoke ? 1 : 5;
    const afterMs = ctx.smoke ? 600 : 1_500;
    const figures = { direct: [], passthrough: [], splice: [], ffmpeg: [] };
    for (let round = 0; round < rounds; round++) {
      figures.direct.push(await firstKeyframe(`${source.url}/${ref}`, { afterMs }));
      for (const kind of ['passthrough', 'splice', 'ffmpeg']) {
        figures[kind].push(await firstKeyframe(`${proxies[kind].url}/${ref}`, { afterMs }));
        await sleep(COLD_MS);
      }
    }
    const added = (kind) => figures[kind].map((f, i) => f.keyframeMs - figures.direct[i].keyframeMs);
    // Audio starts where its earliest track starts; each track is compared with the same track of the source.
    const audioLead = (kind) => figures[kind].map((f) => (Math.min(...f.audioPts) - f.videoPts) / TICKS_PER_MS);
    const audioVsSource = (kind) => figures[kind].flatMap((f, i) => f.audioPts.map((pts, t) => (pts - figures.direct[i].audioPts[t]) / TICKS_PER_MS));
    const within = (values, limit) => Math.abs(median(values)) < limit;
    const rows = [
      row({ name: 'first keyframe, read directly (baseline)', unit: 'ms', values: figures.direct.map((f) => f.keyframeMs), baseline: 'yes' }),
      row({ name: 'added by the proxy: passthrough', unit: 'ms', values: added('passthrough'), target: '< 50 ms', pass: within(added('passthrough'), 50) }),
      row({ name: 'added by the proxy: audio splice', unit: 'ms', values: added('splice'), target: '< 150 ms', pass: within(added('splice'), 150) }),
      row({ name: 'added by the proxy: full ffmpeg remux', unit: 'ms', values: added('ffmpeg'), target: 'reference (the splice replaces it)' }),
      row({ name: 'first audio PTS − the source\'s, per track: audio splice', unit: 'ms', values: audioVsSource('splice'), target: '|x| ≤ 30 ms',
        pass: Math.abs(median(audioVsSource('splice'))) <= 30 }),
      row({ name: 'audio start − video start: source (after the keyframe)', unit: 'ms', values: audioLead('direct'), baseline: 'yes' }),
      row({ name: 'audio start − video start: passthrough', unit: 'ms', values: audioLead('passthrough') }),
      row({ name: 'audio start − video start: audio splice', unit: 'ms', values: audioLead('splice') }),
      row({ name: 'audio start − video start: full ffmpeg remux', unit: 'ms', values: audioLead('ffmpeg') }),
    ];
    const missed = rows.find((r) => r.pass === false && r.name.includes('splice'));
    if (missed) missed.note = 'The splice adds its encoders\' start-up only to the audio; a miss means the keyframe itself was held: see the session\'s gate.';
    return rows;
  } finally {
    await Promise.all(Object.values(proxies).map((p) => p.child.stop()));
    await source.close();
  }
}

module.exports = { title: 'Time to the first keyframe and the audio start', run };
