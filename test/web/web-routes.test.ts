// The web page's routes over real HTTP against the simulator, with an access token set: the page
// is a shell under a strict CSP that holds no channel name, /api/channels groups the channels by
// bouquet with tokened URLs (a hostile name comes back exactly, as JSON text), /assets/ serves the
// page's script and stylesheet and hls.js from the installed package, and nothing of it is served
// without the token. What is on now is checked on the document itself, with a guide stand-in.
import { readFileSync } from 'node:fs';
import { Script } from 'node:vm';
import { ChannelList, type Channel } from '../../src/receiver/channels';
import { channelId, parseServiceRef } from '../../src/receiver/service-ref';
import type { GuideService, ProxyContext, ProxyReceiver } from '../../src/stream/proxy-types';
import { APP_JS } from '../../src/stream/web/app-script';
import { buildChannels, type ChannelsDocument } from '../../src/stream/web/channels-api';
import { PAGE_CSP } from '../../src/stream/web/page';
import { channelsLoaded, fetchBytes, Stack, startStack } from '../helpers/stack';
import { join } from 'node:path';
import { SAMPLES } from '../helpers/samples';

const TOKEN = 'web-token/+&=x';
const Q = `?token=${encodeURIComponent(TOKEN)}`;
const HOSTILE = 'Evil",\n#EXTINF:-1,x <script>alert(1)</script> <img src=x> & \'quoted\'';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    proxy: { token: TOKEN },
    receiver: { bouquets: ['Favourites (TV)', 'Captures (TV)', 'Favourites (Radio)'] },
    sim: { captures: [{ file: join(SAMPLES, 'dvbs2-h264-ac3-cnews-tsduck009.ts'), name: HOSTILE }] },
  });
  await channelsLoaded(stack);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

async function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${stack.url}${path}`, { headers });
}

describe('the page', () => {
  it('is a shell under a policy that allows only the proxy itself', async () => {
    const response = await get(`/${Q}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toBe(PAGE_CSP);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("media-src 'self' blob:");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    const body = await response.text();
    expect(body).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    // Nothing inline: no handler attributes, no inline script or style.
    expect(body).not.toMatch(/\son[a-z]+=/i);
    expect(body).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(body).not.toMatch(/<style|\sstyle=/);
    // No name from the box reaches the HTML: the script fills them in as text.
    expect(body).not.toContain('Evil');
    expect(body).not.toContain('Das Erste');
    // Every URL is page-relative (works under a reverse proxy's path) and carries the token.
    const urls = [...body.matchAll(/\s(?:href|src)="([^"]*)"/g)].map((m) => m[1].replace(/&#38;/g, '&'));
    expect(urls.length).toBeGreaterThan(5);
    for (const url of urls.filter((u) => !u.startsWith('#'))) {
      expect(url).not.toMatch(/^(\/|[a-z]+:)/i);
      expect(new URL(url, 'http://x/').searchParams.get('token')).toBe(TOKEN);
    }
    expect(body).toContain(`data-token-query="${Q.replace(/&/g, '&#38;').replace(/'/g, '&#39;')}"`);
  });

  it('needs the token, as every route but /healthz does', async () => {
    for (const path of ['/', '/api/channels', '/assets/app.js', '/assets/hls.min.js']) {
      expect((await get(path)).status).toBe(401);
    }
    expect((await get('/api/channels', { Authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });
});

describe('/api/channels', () => {
  it('lists the receivers, their bouquets and channels with tokened URLs', async () => {
    const response = await get(`/api/channels${Q}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const doc = (await response.json()) as ChannelsDocument;
    expect(doc.receivers.map((r) => r.name)).toEqual(['Test Box']);
    const [box] = doc.receivers;
    expect(box.reachable).toBe(true);
    expect(box.bouquets.map((b) => b.name)).toEqual(['Favourites (TV)', 'Captures (TV)', 'Favourites (Radio)']);
    const all = box.bouquets.flatMap((b) => b.channels);
    expect(all.map((c) => c.number)).toEqual(all.map((_, i) => i + 1));
    expect(all).toHaveLength(stack.app.receivers[0].channels().size);

    const erste = all.find((c) => c.name === 'Das Erste HD')!;
    const ref = '1:0:19:283D:3FB:1:C00000:0:0:0:';
    const encoded = encodeURIComponent(ref);
    expect(erste).toEqual({
      number: 1,
      name: 'Das Erste HD',
      ref,
      id: channelId(parseServiceRef(ref)),
      kind: 'tv',
      logo: `${stack.url}/picon/${encoded}.png${Q}`,
      stream: `${stack.url}/${ref}${Q}`,
      hls: `${stack.url}/hls/${encoded}/index.m3u8${Q}`,
      now: null,
    });
    const radio = box.bouquets[2].channels;
    expect(radio.length).toBeGreaterThan(0);
    expect(radio.every((c) => c.kind === 'radio')).toBe(true);

    // The hostile name comes back exactly: JSON escapes it, and the page sets it as text.
    const evil = box.bouquets[1].channels.find((c) => c.name.startsWith('Evil'));
    expect(evil?.name).toBe(HOSTILE);
    const raw = await (await get(`/api/channels${Q}`)).text();
    expect(raw).toContain(JSON.stringify(HOSTILE));
    expect(raw).not.toContain('Evil",\n');
  });

  it('says what is on now from the guide, when there is one', () => {
    const channel = (ref: string, name: string, number: number): Channel => {
      const parsed = parseServiceRef(ref);
      return { ref: parsed, name, bouquet: 'Favourites (TV)', number, kind: 'tv', id: channelId(parsed) };
    };
    const list = new ChannelList([channel('1:0:19:283D:3FB:1:C00000:0:0:0:', 'Das Erste HD', 1), channel('1:0:19:2B66:3F3:1:C00000:0:0:0:', 'ZDF HD', 2)]);
    const receiver = {
      name: 'Box',
      channels: () => list,
      summary: () => ({ name: 'Box', address: 'box:80', reachable: false, channels: 2, tuners: null, lastError: 'the box does not answer' }),
    } as unknown as ProxyReceiver;
    const begin = new Date('2030-01-01T20:15:00Z');
    const end = new Date('2030-01-01T21:45:00Z');
    // Only `now` is used here; the rest of the guide is not this page's.
    const guide: Pick<GuideService, 'now'> = { now: (c) => (c.name === 'Das Erste HD' ? { title: 'Tatort', begin, end } : undefined) };
    const context: ProxyContext = { receivers: [receiver], token: '', publicUrl: '', version: 't', guide: guide as GuideService };
    const doc = buildChannels(context, 'http://h:1', '');
    expect(doc.receivers[0]).toMatchObject({ name: 'Box', reachable: false, lastError: 'the box does not answer' });
    expect(doc.receivers[0].bouquets[0].channels.map((c) => c.now)).toEqual([
      { title: 'Tatort', begin: '2030-01-01T20:15:00.000Z', end: '2030-01-01T21:45:00.000Z' },
      null,
    ]);
    expect(doc.receivers[0].bouquets[0].channels[1].stream).toBe('http://h:1/1:0:19:2B66:3F3:1:C00000:0:0:0:');
  });
});

describe('/assets/', () => {
  it('serves hls.js from the installed package, cached for long', async () => {
    const response = await get(`/assets/hls.min.js${Q}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('cache-control')).toMatch(/max-age=31536000/);
    const body = await response.text();
    const installed = readFileSync(require.resolve('hls.js/dist/hls.min.js'), 'utf8');
    // The same library, minus the source map comment (the map is not served).
    expect(body.trim()).toBe(installed.replace(/\/\/# sourceMappingURL=\S+\s*$/, '').trim());
    expect(body).not.toContain('sourceMappingURL');

    // A second load is answered from the browser's copy.
    const again = await get(`/assets/hls.min.js${Q}`, { 'If-None-Match': response.headers.get('etag')! });
    expect(again.status).toBe(304);

    const worker = await get(`/assets/hls.worker.js${Q}`);
    expect(worker.status).toBe(200);
    expect((await worker.text()).length).toBeGreaterThan(10_000);
  });

  it("serves the page's own script and stylesheet, and nothing else", async () => {
    const script = await get(`/assets/app.js${Q}`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('cache-control')).toBe('no-cache');
    const code = await script.text();
    expect(() => new Script(code)).not.toThrow();
    expect(code).toBe(APP_JS);
    // Names go into the page as text only.
    expect(code).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);

    const css = await get(`/assets/app.css${Q}`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');

    for (const path of ['/assets/', '/assets/nope.js', '/assets/../package.json', '/assets/hls.min.js.map', '/assets/constructor', '/assets/app.js/x']) {
      const refused = await fetchBytes(`${stack.url}${path}${Q}`);
      // 400 where the router refuses the path itself (`..`), 404 for a name that is not an asset.
      expect([path, refused.status]).toEqual([path, path.includes('..') ? 400 : 404]);
    }
  });
});
