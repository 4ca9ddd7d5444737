// /picon/<ref>.png through the whole stack: the simulator's picon folder, the OpenWebIF client, the
// fallbacks, the cache (memory, disk, misses) and the route, including the playlist's tvg-logo links.
import { existsSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { channelsLoaded, DAS_ERSTE_HD, SERVUS_AAC, Stack, startStack, until, ZDF_HD } from '../helpers/stack';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const SAT3_HD = '1:0:19:2B8E:3F2:1:C00000:0:0:0:';
const ARTE_HD = '1:0:19:283E:3FB:1:C00000:0:0:0:';
const FIX_FOXI = '1:0:16:2F1C:441:1:C00000:0:0:0:';
/** In the simulator's Sport bouquet, which the stack does not configure; the box has a picon for it. */
const SKY_SPORT = '1:0:19:4E:B:85:C00000:0:0:0:';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

const boxPicons = (stack: Stack): string[] =>
  stack.sim.requests.filter((r) => r.listener === 'web' && r.path.startsWith('/picon/')).map((r) => r.path.slice('/picon/'.length));

describe('/picon/<ref>.png', () => {
  let stack: Stack;
  const picon = (ref: string, headers?: Record<string, string>): Promise<Answer> => get(`${stack.url}/picon/${encodeURIComponent(ref)}.png`, headers);
  const fromBox = async (name: string): Promise<Buffer> => {
    const answer = await get(`${stack.sim.webUrl}/picon/${name}`);
    expect(answer.status).toBe(200);
    return answer.body;
  };

  beforeAll(async () => {
    stack = await startStack();
    await channelsLoaded(stack);
  });
  afterAll(() => stack?.stop());
  beforeEach(() => stack.sim.clearRequests());

  it('finds an HD channel under its SD reference', async () => {
    const answer = await picon(DAS_ERSTE_HD);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('image/png');
    expect(answer.headers['cache-control']).toMatch(/^max-age=\d+$/);
    expect(answer.body).toEqual(await fromBox('1_0_1_283D_3FB_1_C00000_0_0_0.png'));
    expect(boxPicons(stack).slice(0, 2)).toEqual(['1_0_19_283D_3FB_1_C00000_0_0_0.png', '1_0_1_283D_3FB_1_C00000_0_0_0.png']);
  });

  it('finds a channel by its name', async () => {
    const answer = await picon(ZDF_HD);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(await fromBox('zdfhd.png'));
    expect(boxPicons(stack).slice(0, 3)).toEqual(['1_0_19_2B66_3F3_1_C00000_0_0_0.png', '1_0_1_2B66_3F3_1_C00000_0_0_0.png', 'zdfhd.png']);
  });

  it('answers 404 with a sentence for a channel without picon, and remembers that', async () => {
    const first = await picon(FIX_FOXI);
    expect(first.status).toBe(404);
    expect(first.body.toString()).toMatch(/has no picon for this channel/);
    expect(boxPicons(stack)).toEqual(['1_0_16_2F1C_441_1_C00000_0_0_0.png', '1_0_1_2F1C_441_1_C00000_0_0_0.png', 'fixandfoxi.png']);
    stack.sim.clearRequests();
    expect((await picon(FIX_FOXI)).status).toBe(404);
    expect(boxPicons(stack)).toEqual([]);
  });

  it('never asks the box about references outside the configured bouquets', async () => {
    for (const ref of [SKY_SPORT, '1:0:19:1234:5678:1:C00000:0:0:0:']) {
      const answer = await picon(ref);
      expect(answer.status).toBe(404);
      expect(answer.body.toString()).toMatch(/not a channel of the configured bouquets/);
    }
    expect(boxPicons(stack)).toEqual([]);
  });

  it('answers 400 for what is not a channel reference', async () => {
    expect((await get(`${stack.url}/picon/nonsense.png`)).status).toBe(400);
    expect((await get(`${stack.url}/picon/%E0%A4%A.png`)).status).toBe(400);
    expect((await picon('1:64:1:0:0:0:0:0:0:0::--- Deutsch ---')).status).toBe(400);
    expect((await get(`${stack.url}/picon/${encodeURIComponent(SAT3_HD)}`)).status).toBe(404);
    expect(boxPicons(stack)).toEqual([]);
  });

  it('serves a picon again from its cache, with an ETag', async () => {
    const first = await picon(SAT3_HD);
    expect(first.status).toBe(200);
    expect(boxPicons(stack)).toEqual(['1_0_19_2B8E_3F2_1_C00000_0_0_0.png']);
    const file = join(stack.app.cacheDir, 'picons', '1_0_19_2B8E_3F2_1_C00000_0_0_0.png');
    await until(() => existsSync(file), 5_000, 'the picon on disk');

    stack.sim.clearRequests();
    const second = await picon(SAT3_HD);
    expect(second.body).toEqual(first.body);
    expect(second.headers.etag).toBe(first.headers.etag);
    const unchanged = await picon(SAT3_HD, { 'If-None-Match': String(first.headers.etag) });
    expect(unchanged.status).toBe(304);
    expect(unchanged.body.length).toBe(0);
    expect(boxPicons(stack)).toEqual([]);
  });

  it('shares one fetch between concurrent requests for the same picon', async () => {
    const answers = await Promise.all(Array.from({ length: 5 }, () => picon(ARTE_HD)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(boxPicons(stack)).toEqual(['1_0_19_283E_3FB_1_C00000_0_0_0.png']);
  });

  it('answers a PNG for every tvg-logo of the playlist whose channel has a picon', async () => {
    const playlist = (await get(`${stack.url}/playlist.m3u`)).body.toString();
    const logos = [...playlist.matchAll(/tvg-name="([^"]*)"[^\n]*?tvg-logo="([^"]+)"|tvg-logo="([^"]+)"[^\n]*?tvg-name="([^"]*)"/g)].map((m) =>
      m[1] !== undefined ? { name: m[1], url: m[2] } : { name: m[4], url: m[3] },
    );
    expect(logos.length).toBe(stack.app.receivers[0].channels().size);
    const without = new Set(['Fix & Foxi', 'Euronews (IPTV)']);
    for (const { name, url } of logos) {
      const answer = await get(url);
      if (without.has(name)) {
        expect({ name, status: answer.status }).toEqual({ name, status: 404 });
        continue;
      }
      expect({ name, status: answer.status, type: answer.headers['content-type'] }).toEqual({ name, status: 200, type: 'image/png' });
      expect(answer.body.subarray(0, 8)).toEqual(SIGNATURE);
    }
  });
});

describe('/picon when the box fails or needs a login', () => {
  it('answers 502 with the reason when the box cannot be reached, and does not retry at once', async () => {
    const stack = await startStack();
    const picon = (ref: string): Promise<Answer> => get(`${stack.url}/picon/${encodeURIComponent(ref)}.png`);
    try {
      await channelsLoaded(stack);
      stack.sim.setFault('refuse');
      const first = await picon(SERVUS_AAC);
      expect(first.status).toBe(502);
      expect(first.headers['retry-after']).toBeDefined();
      expect(first.body.toString()).toMatch(/could not be fetched from the receiver: .*Test Box/);
      expect(stack.logs.filter((l) => l.startsWith('warn') && l.includes('Channel logos')).length).toBe(1);
      stack.sim.setFault(null);
      stack.sim.clearRequests();
      expect((await picon(SERVUS_AAC)).status).toBe(502);
      expect(boxPicons(stack)).toEqual([]);
    } finally {
      await stack.stop();
    }
  });

  it('fetches picons with the configured credentials', async () => {
    const login = { username: 'root', password: 'pic0n-s3cret' };
    const stack = await startStack({ sim: { auth: login }, receiver: login });
    try {
      await channelsLoaded(stack);
      stack.sim.clearRequests();
      const answer = await get(`${stack.url}/picon/${encodeURIComponent(SAT3_HD)}.png`);
      expect(answer.status).toBe(200);
      expect(answer.body.subarray(0, 8)).toEqual(SIGNATURE);
      const asked = stack.sim.requests.filter((r) => r.path.startsWith('/picon/'));
      expect(asked.length).toBe(1);
      expect(asked[0].headers.authorization).toBe(`Basic ${Buffer.from('root:pic0n-s3cret').toString('base64')}`);
      // The simulator refuses the same file without the login, as a box with auth on does.
      expect((await get(`${stack.sim.webUrl}/picon/1_0_19_2B8E_3F2_1_C00000_0_0_0.png`)).status).toBe(401);
      expect(stack.logs.join('\n')).not.toContain('pic0n-s3cret');
    } finally {
      await stack.stop();
    }
  });
});
