// The proxy's routes: hostile paths refused before any upstream request, HEAD without tuning,
// status, metrics, playlist, token, and the relay through `auto`.
import { DAS_ERSTE_HD, channelsLoaded, fetchBytes, SERVUS_AAC, SKY_CINEMA_RELAY, Stack, startStack, streamUrl, until } from '../helpers/stack';

const upstreamRequests = (stack: Stack): number => stack.sim.requests.filter((r) => r.listener !== 'web').length;

describe('routes', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ sim: { auth: { username: 'root', password: 'sup3r-s3cret' } }, receiver: { username: 'root', password: 'sup3r-s3cret' } });
    await channelsLoaded(stack);
  });
  afterAll(() => stack?.stop());

  it.each([
    ['an encoded traversal', '/..%2f..%2fetc%2fpasswd'],
    ['a dot-dot path', '/%2e%2e/%2e%2e/etc/passwd'],
    ['an absolute URL', '/http://evil.example/'],
    ['a protocol-relative URL', '//evil.example/x'],
    ['an over-long path', '/' + '1:0:19:283D:3FB:1:C00000:0:0:0:'.repeat(60)],
    ['bad percent-encoding', '/%ZZ'],
    ['a non-hex field', '/1:0:19:XYZ:3FB:1:C00000:0:0:0:'],
    ['a marker', '/1:64:1:0:0:0:0:0:0:0::--- Deutsch ---'],
    ['a bouquet', '/' + encodeURIComponent('1:7:1:0:0:0:0:0:0:0:FROM BOUQUET "userbouquet.favourites.tv" ORDER BY bouquet')],
    ['a control character', '/1:0:19:283D:3FB:1:C00000:0:0:0:%0A'],
    ['a file URL in an IPTV reference', `/${encodeURIComponent('4097:0:1:0:0:0:0:0:0:0:file%3a///etc/passwd:f')}`],
    ['a cloud metadata URL', `/${encodeURIComponent('5001:0:1:0:0:0:0:0:0:0:https%3a//169.254.169.254/latest/meta-data:x')}`],
    ['a loopback URL to the box\'s own API', `/4097:0:1:0:0:0:0:0:0:0:http%253a//127.0.0.1%253a80/api/powerstate:p`],
    ['a URL after a channel', '/1:0:19:283D:3FB:1:C00000:0:0:0:http://evil.example/'],
    ['a name after a channel', '/1:0:19:283D:3FB:1:C00000:0:0:0::%E2%80%AEevil'],
    ['a line separator', '/1:0:19:283D:3FB:1:C00000:0:0:0:%E2%80%A8'],
  ])('refuses %s with 400 and no upstream request', async (_label, path) => {
    stack.sim.clearRequests();
    const response = await fetchBytes(`${stack.url}${path}`);
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.body.length).toBeGreaterThan(0);
    expect(response.body.length).toBeLessThan(300);
    expect(upstreamRequests(stack)).toBe(0);
  });

  it('accepts the reference raw, encoded and without its trailing colon (HEAD, so nothing is tuned)', async () => {
    stack.sim.clearRequests();
    for (const path of [DAS_ERSTE_HD, encodeURIComponent(DAS_ERSTE_HD), DAS_ERSTE_HD.replace(/:$/, '')]) {
      const response = await fetchBytes(`${stack.url}/${path}`, Infinity, 5_000, 'HEAD');
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toBe('video/mp2t');
    }
    expect(upstreamRequests(stack)).toBe(0);
  });

  it('reports sessions in /api/status and /metrics without any secret', async () => {
    const reading = fetchBytes(streamUrl(stack, DAS_ERSTE_HD), 600_000);
    await until(() => stack.app.streams[0].sessions.list()[0]?.state === 'running', 15_000);
    const status = JSON.parse((await fetchBytes(`${stack.url}/api/status`)).body.toString());
    expect(status.receivers[0]).toMatchObject({ name: 'Test Box', reachable: true, tuners: 2 });
    expect(status.sessions).toHaveLength(1);
    expect(status.sessions[0]).toMatchObject({
      receiver: 'Test Box',
      channel: { name: 'Das Erste HD', ref: DAS_ERSTE_HD },
      mode: 'transcode',
      codecsIn: ['h264', 'ac3', 'ac3'],
      codecsOut: ['h264', 'aac', 'aac'],
      clients: 1,
      restarts: 0,
      lastError: null,
    });
    expect(status.sessions[0].bytesIn).toBeGreaterThan(0);
    expect(Date.parse(status.sessions[0].startedAt)).not.toBeNaN();
    const metrics = (await fetchBytes(`${stack.url}/metrics`)).body.toString();
    expect(metrics).toMatch(/xg2g_sessions_active\{receiver="Test Box",mode="transcode"\} 1/);
    expect(metrics).toMatch(/xg2g_clients_active\{receiver="Test Box"\} 1/);
    // The splice runs one audio-only ffmpeg per AC-3 track: two for this channel.
    expect(metrics).toMatch(/xg2g_ffmpeg_processes 2\n/);
    expect(metrics).toMatch(/xg2g_stream_bytes_in_total\{receiver="Test Box"\} [1-9]/);
    await reading;
    for (const body of [JSON.stringify(status), metrics, stack.logs.join('\n')]) expect(body).not.toContain('sup3r-s3cret');
  });

  it('lists every playable channel in /playlist.m3u, pointing at the proxy', async () => {
    const response = await fetchBytes(`${stack.url}/playlist.m3u`);
    expect(response.status).toBe(200);
    const text = response.body.toString();
    // The guide's URL in the header; numbers in bouquet order, logos, ids the guide uses.
    expect(text.startsWith(`#EXTM3U x-tvg-url="${stack.url}/xmltv.xml"\n`)).toBe(true);
    expect(text).toContain(`#EXTINF:-1 tvg-id="283d-3fb-1-c00000.xg2g" tvg-chno="1" tvg-name="Das Erste HD" tvg-logo="${stack.url}/picon/${encodeURIComponent(DAS_ERSTE_HD)}.png" group-title="Favourites (TV)",Das Erste HD\n${stack.url}/${DAS_ERSTE_HD}\n`);
    expect(text).not.toContain('--- Deutsch ---');
    expect(text).not.toContain('sup3r-s3cret');
    const entries = text.split('\n').filter((l) => l.startsWith('#EXTINF')).length;
    expect(entries).toBe(stack.app.receivers[0].channels().size);
  });

  it('answers /healthz', async () => {
    const response = await fetchBytes(`${stack.url}/healthz`);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body.toString())).toEqual({ status: 'ok' });
  });
});

describe('IPTV channels', () => {
  it('streams a configured IPTV channel by its reference, sent to the box exactly as the box stores it', async () => {
    const stack = await startStack();
    try {
      await channelsLoaded(stack);
      const iptv = stack.app.receivers[0].channels().all.find((c) => c.ref.path !== '')!;
      expect(iptv.ref.ref).toContain('http%3a//');
      stack.sim.clearRequests();
      // The playlist's spelling (the whole ref encoded, colons literal), and the box's own (raw).
      await fetchBytes(`${stack.url}/${encodeURIComponent(iptv.ref.ref).replace(/%3A/g, ':')}`, 1, 10_000);
      await fetchBytes(`${stack.url}/${iptv.ref.ref.replace(/ /g, '%20')}`, 1, 10_000);
      const sent = stack.sim.requests.filter((r) => r.listener === 'stream').map((r) => decodeURIComponent(r.path.slice(1)));
      expect(sent).toEqual([iptv.ref.ref, iptv.ref.ref]);
    } finally {
      await stack.stop();
    }
  });
});

describe('token and backends', () => {
  it('requires the access token where one is configured, never echoing it', async () => {
    const stack = await startStack({ proxy: { token: 'tok-123456' } });
    try {
      expect((await fetchBytes(`${stack.url}/api/status`)).status).toBe(401);
      expect((await fetchBytes(`${stack.url}/api/status?token=wrong`)).status).toBe(401);
      const ok = await fetchBytes(`${stack.url}/api/status?token=tok-123456`);
      expect(ok.status).toBe(200);
      expect(ok.body.toString()).not.toContain('tok-123456');
      expect((await fetchBytes(`${stack.url}/healthz`)).status).toBe(200);
    } finally {
      await stack.stop();
    }
  });

  it('carries the token into every link of a tokened answer: playlist entries, HLS playlists and segments, the index page', async () => {
    const token = 'tok/+&6=x';
    const q = `?token=${encodeURIComponent(token)}`;
    const stack = await startStack({ proxy: { token } });
    try {
      await channelsLoaded(stack);
      const playlist = (await fetchBytes(`${stack.url}/playlist.m3u${q}`)).body.toString();
      const entries = playlist.split('\n').filter((l) => l.startsWith('http'));
      expect(entries.length).toBeGreaterThan(5);
      for (const entry of entries) expect(entry.endsWith(q)).toBe(true);
      // A player opens an entry exactly as written.
      const servus = entries.find((e) => e.includes('132F'))!;
      expect((await fetchBytes(servus, 1_000)).status).toBe(200);
      // Bearer requests get the same links; players resolve them against the URL without its query.
      const master = await fetch(`${stack.url}/hls/${SERVUS_AAC}/index.m3u8`, { headers: { Authorization: `Bearer ${token}` } });
      expect(master.status).toBe(200);
      const mediaLink = (await master.text()).split('\n').find((l) => l.startsWith('media.m3u8'))!;
      expect(mediaLink).toBe(`media.m3u8${q}`);
      const media = await fetchBytes(new URL(mediaLink, `${stack.url}/hls/${SERVUS_AAC}/index.m3u8`).href);
      expect(media.status).toBe(200);
      const segmentLink = media.body.toString().split('\n').find((l) => l.startsWith('seg'))!;
      expect(segmentLink.endsWith(q)).toBe(true);
      const segment = await fetchBytes(new URL(segmentLink, `${stack.url}/hls/${SERVUS_AAC}/media.m3u8`).href);
      expect(segment.status).toBe(200);
      expect(segment.body[0]).toBe(0x47);
      // The web page: every link and script but the in-page anchor carries the token.
      const index = (await fetchBytes(`${stack.url}/${q}`)).body.toString();
      const links = [...index.matchAll(/(?:href|src)="?([^" >]+)/g)].map((m) => m[1].replace(/&#38;|&amp;/g, '&')).filter((l) => !l.startsWith('#'));
      expect(links.length).toBeGreaterThan(5);
      for (const link of links) expect(new URL(link, `${stack.url}/`).searchParams.get('token')).toBe(token);
    } finally {
      await stack.stop();
    }
  });

  it('writes no token into links when none is configured', async () => {
    const stack = await startStack();
    try {
      await channelsLoaded(stack);
      const playlist = (await fetchBytes(`${stack.url}/playlist.m3u`)).body.toString();
      expect(playlist).not.toContain('token');
      expect(playlist.split('\n').filter((l) => l.startsWith('http')).every((l) => !l.includes('?'))).toBe(true);
    } finally {
      await stack.stop();
    }
  });

  it('follows the box to its descrambling relay with streamTarget auto', async () => {
    const stack = await startStack({ target: 'auto' });
    try {
      const response = await fetchBytes(streamUrl(stack, SKY_CINEMA_RELAY), 200_000);
      expect(response.status).toBe(200);
      expect(stack.sim.requests.some((r) => r.listener === 'relay')).toBe(true);
      expect(stack.sim.requests.some((r) => r.listener === 'web' && r.path.includes('stream.m3u'))).toBe(true);
    } finally {
      await stack.stop();
    }
  });
});
