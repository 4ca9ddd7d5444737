// The simulated OpenWebIF over real HTTP: exact JSON shapes and the quirks of docs/openwebif-api.md.
import { get } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { startSimulator, type Simulator } from '../../src/simulator';

const FAV = '1:7:1:0:0:0:0:0:0:0:FROM BOUQUET "userbouquet.favourites.tv" ORDER BY bouquet';
const ERSTE = '1:0:19:283D:3FB:1:C00000:0:0:0:';
const ZDF = '1:0:19:2B66:3F3:1:C00000:0:0:0:';

let sim: Simulator;

async function api(path: string, init?: RequestInit): Promise<Record<string, unknown>> {
  const res = await fetch(`${sim.webUrl}${path}`, init);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  return (await res.json()) as Record<string, unknown>;
}
const enc = encodeURIComponent;

afterEach(async () => {
  await sim?.close();
});

describe('simulator web interface', () => {
  beforeEach(async () => {
    sim = await startSimulator();
  });

  test('statusinfo when on: string booleans, real bool muted, current service', async () => {
    const s = await api('/api/statusinfo');
    expect(s).toMatchObject({
      volume: 50,
      muted: false,
      currservice_serviceref: ERSTE,
      currservice_station: 'Das Erste HD',
      inStandby: 'false',
      isRecording: 'false',
      isStreaming: 'false',
      Streaming_list: '',
    });
    expect(typeof s.currservice_begin_timestamp).toBe('number');
    expect(s.currservice_end_timestamp as number).toBeGreaterThan(s.currservice_begin_timestamp as number);
    sim.setState({ recording: true, muted: true });
    expect(await api('/api/statusinfo')).toMatchObject({ isRecording: 'true', muted: true });
  });

  test('statusinfo in standby: no service keys, muted true, name N/A', async () => {
    sim.setState({ power: 'standby' });
    const s = await api('/api/statusinfo');
    expect(s).not.toHaveProperty('currservice_serviceref');
    expect(s).not.toHaveProperty('currservice_station');
    expect(s).toMatchObject({ muted: true, currservice_name: 'N/A', inStandby: 'true' });
  });

  test('powerstate answers the state before the change', async () => {
    expect(await api('/api/powerstate')).toEqual({ result: true, instandby: false });
    expect(await api('/api/powerstate?newstate=5')).toEqual({ result: true, instandby: false });
    expect(sim.state.power).toBe('standby');
    expect(await api('/api/powerstate?newstate=5')).toEqual({ result: true, instandby: true });
    expect(await api('/api/powerstate?newstate=0')).toEqual({ result: true, instandby: true });
    expect(sim.state.power).toBe('on');
    expect(await api('/api/powerstate?newstate=0')).toEqual({ result: true, instandby: false });
    expect(await api('/api/powerstate?newstate=4')).toEqual({ result: true, instandby: true });
    expect(sim.state.power).toBe('on');
  });

  test('deep standby answers once, then the web interface is gone until woken', async () => {
    expect(await api('/api/powerstate?newstate=1')).toEqual({ result: true, instandby: false });
    expect(sim.state.power).toBe('deep');
    await expect(fetch(`${sim.webUrl}/api/statusinfo`)).rejects.toThrow();
    sim.setState({ power: 'on' });
    expect(await api('/api/statusinfo')).toMatchObject({ inStandby: 'false' });
  });

  test('zap switches, is blocked by parental control, and does not wake from standby', async () => {
    expect(await api(`/api/zap?sRef=${enc(ZDF)}`)).toEqual({ result: true, message: `Active service is now '${ZDF}'` });
    expect(sim.state.channelRef).toBe(ZDF);
    expect((await api('/api/statusinfo')).currservice_station).toBe('ZDF HD');

    const krimi = '1:0:16:DB:3:85:C00000:0:0:0:';
    expect(await api(`/api/zap?sRef=${enc(krimi)}&title=Sky%20Krimi`)).toEqual({
      result: false,
      message: "Service 'Sky Krimi' is blocked by parental Control",
    });
    expect(sim.state.channelRef).toBe(ZDF);

    sim.setState({ power: 'standby' });
    expect(await api(`/api/zap?sRef=${enc(ERSTE)}`)).toMatchObject({ result: true });
    expect(sim.state.power).toBe('standby');
    expect(sim.state.channelRef).toBe(ZDF);
  });

  test('missing mandatory parameter is HTTP 200 with result false', async () => {
    expect(await api('/api/zap')).toEqual({ result: false, message: "Missing mandatory parameter 'sRef'" });
    expect(await api('/api/epgservice')).toEqual({ result: false, message: "Missing mandatory parameter 'sRef'" });
    expect(await api('/api/epgnow')).toEqual({ result: false, message: "Missing mandatory parameter 'bRef'" });
  });

  test('vol: setNN, up, down, mute; a bare number is rejected', async () => {
    expect(await api('/api/vol?set=set55')).toEqual({ result: true, message: 'Volume set to 55', current: 55, ismute: false });
    expect(await api('/api/vol?set=up')).toMatchObject({ result: true, current: 60 });
    expect(await api('/api/vol?set=down')).toMatchObject({ result: true, current: 55 });
    expect(await api('/api/vol?set=mute')).toMatchObject({ result: true, ismute: true });
    expect(sim.state).toMatchObject({ volume: 55, muted: true });
    const bare = await api('/api/vol?set=55');
    expect(bare.result).toBe(false);
    expect(sim.state.volume).toBe(55);
    expect(await api('/api/vol?set=set150')).toMatchObject({ current: 100 });
  });

  test('remotecontrol records keys; power key toggles standby', async () => {
    expect(await api('/api/remotecontrol?command=116')).toEqual({ result: true, message: "RC command '116' has been issued" });
    expect(sim.state.power).toBe('standby');
    await api('/api/remotecontrol?command=116');
    await api('/api/remotecontrol?command=402');
    expect(sim.keys).toEqual([116, 116, 402]);
    expect(sim.state.power).toBe('on');
    expect(sim.state.channelRef).toBe(ZDF);
    expect(await api('/api/remotecontrol')).toEqual({ result: false, message: "Missing mandatory parameter 'command'" });
  });

  test('bouquets list has no result key', async () => {
    const tv = await api('/api/bouquets?stype=tv');
    expect(Object.keys(tv)).toEqual(['bouquets']);
    expect(tv.bouquets).toEqual([
      [FAV, 'Favourites (TV)'],
      ['1:7:1:0:0:0:0:0:0:0:FROM BOUQUET "userbouquet.sport.tv" ORDER BY bouquet', 'Sport (TV)'],
    ]);
    const radio = await api('/api/bouquets?stype=radio');
    expect(radio.bouquets).toEqual([['1:7:2:0:0:0:0:0:0:0:FROM BOUQUET "userbouquet.favourites.radio" ORDER BY bouquet', 'Favourites (Radio)']]);
    expect(sim.bouquets.map((b) => b.name)).toEqual(['Favourites (TV)', 'Sport (TV)', 'Favourites (Radio)']);
  });

  test('getservices: markers, sub-bouquet, IPTV, unescaped names, hidden only on request', async () => {
    const res = await api(`/api/getservices?sRef=${enc(FAV)}`);
    expect(res.result).toBe(true);
    expect(res.processingtime).toMatch(/^0:00:\d\d\.\d{6}$/);
    const services = res.services as Array<{ pos: number; servicename: string; servicereference: string; program: number }>;
    expect(services[0]).toEqual({ pos: 0, servicename: '--- Deutsch ---', servicereference: '1:64:1:0:0:0:0:0:0:0::--- Deutsch ---', program: 0 });
    expect(services[1]).toEqual({ pos: 1, servicename: 'Das Erste HD', servicereference: ERSTE, program: 10301 });
    const names = services.map((s) => s.servicename);
    expect(names).toContain('Fix & Foxi');
    expect(names).not.toContain('tagesschau24 HD');
    expect(services.some((s) => s.servicereference.startsWith('1:7:1:') && s.servicereference.includes('userbouquet.sub.tv'))).toBe(true);
    expect(services.some((s) => s.servicereference.startsWith('4097:0:1:') && s.servicereference.includes('http%3a//'))).toBe(true);
    expect(res.pos).toBe(services.filter((s) => !s.servicereference.startsWith('1:64:')).length);

    const hidden = await api(`/api/getservices?sRef=${enc(FAV)}&hidden=1`);
    const hiddenEntry = (hidden.services as Array<{ servicereference: string }>).find((s) => s.servicereference.startsWith('1:512:'));
    expect(hiddenEntry).toBeDefined();

    const sub = await api(`/api/getservices?sRef=${enc('1:7:1:0:0:0:0:0:0:0:FROM BOUQUET "userbouquet.sub.tv" ORDER BY bouquet')}`);
    expect((sub.services as unknown[]).length).toBe(2);
  });

  test('getservices without sRef lists TV bouquets with startpos; getallservices nests them', async () => {
    const res = await api('/api/getservices');
    const list = res.services as Array<{ servicename: string; startpos: number; servicereference: string }>;
    expect(list.map((s) => s.servicename)).toEqual(['Favourites (TV)', 'Sport (TV)']);
    expect(list[0].startpos).toBe(0);
    const favCount = ((await api(`/api/getservices?sRef=${enc(FAV)}`)).pos as number);
    expect(list[1].startpos).toBe(favCount);

    const all = await api('/api/getallservices');
    const groups = all.services as Array<{ servicereference: string; servicename: string; subservices: unknown[] }>;
    expect(groups.map((g) => g.servicename)).toEqual(['Favourites (TV)', 'Sport (TV)']);
    expect(groups[0].servicereference).toBe(FAV);
    expect(groups[1].subservices.length).toBeGreaterThan(0);
  });

  test('EPG: escaped text, timestamps around now, N/A for channels without EPG', async () => {
    const now = Math.floor(Date.now() / 1000);
    const res = await api(`/api/epgnow?bRef=${enc(FAV)}`);
    expect(res.result).toBe(true);
    const events = res.events as Array<Record<string, unknown>>;
    const erste = events.find((e) => e.sref === ERSTE);
    expect(erste).toBeDefined();
    expect(Object.keys(erste as object).sort()).toEqual(
      ['begin_timestamp', 'duration_sec', 'genre', 'genreid', 'id', 'longdesc', 'now_timestamp', 'remaining', 'sname', 'sref', 'shortdesc', 'title'].sort(),
    );
    expect(erste?.begin_timestamp as number).toBeLessThanOrEqual(now + 1);
    expect((erste?.begin_timestamp as number) + (erste?.duration_sec as number)).toBeGreaterThan(now - 1);
    const fix = events.find((e) => e.sref === '1:0:16:2F1C:441:1:C00000:0:0:0:');
    expect(fix).toMatchObject({ begin_timestamp: 0, title: 'N/A', sname: 'Fix &amp; Foxi' });

    // Escaping somewhere in the guide: across now/next and all channels some text needs it.
    const next = await api(`/api/epgnext?bRef=${enc(FAV)}`);
    const text = JSON.stringify([res, next, await api(`/api/epgservice?sRef=${enc(ERSTE)}`)]);
    expect(text).toMatch(/&amp;|&lt;|&gt;|&quot;/);
    expect(text).not.toMatch(/Borowski & die/);
    const nextErste = (next.events as Array<Record<string, unknown>>).find((e) => e.sref === ERSTE);
    expect(nextErste?.begin_timestamp).toBe((erste?.begin_timestamp as number) + (erste?.duration_sec as number));

    // endTime is minutes: 90 min from now cover the running event and the 2-3 following ones.
    const svc = await api(`/api/epgservice?sRef=${enc(ERSTE)}&endTime=90`);
    expect((svc.events as unknown[]).length).toBeGreaterThanOrEqual(3);
    expect((svc.events as unknown[]).length).toBeLessThanOrEqual(4);
    const cur = await api('/api/getcurrent');
    expect(cur.info).toMatchObject({ name: 'Das Erste HD', ref: ERSTE, width: 1280, height: 720 });
    expect((cur.now as Record<string, unknown>).sref).toBe(ERSTE);
    expect((cur.next as Record<string, unknown>).begin_timestamp).toBe(nextErste?.begin_timestamp);
  });

  test('stream.m3u gives the streaming port, or the relay port for relay channels', async () => {
    const res = await fetch(`${sim.webUrl}/web/stream.m3u?ref=${enc(ERSTE)}&name=Das%20Erste%20HD`);
    expect(res.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    const streamPort = new URL(sim.streamUrl).port;
    expect(await res.text()).toBe(
      `#EXTM3U\n#EXTVLCOPT:http-reconnect=true\n#EXTINF:-1,Das Erste HD\n#EXTVLCOPT:program=10301\nhttp://127.0.0.1:${streamPort}/${ERSTE}\n`,
    );
    const sky = '1:0:19:6A:4:85:C00000:0:0:0:';
    const relayText = await (await fetch(`${sim.webUrl}/web/stream.m3u?ref=${enc(sky)}&name=Sky`)).text();
    expect(relayText.trim().split('\n').pop()).toBe(`http://127.0.0.1:${new URL(sim.relayUrl).port}/${sky}`);
    expect(relayText).toContain('#EXTVLCOPT:program=106\n');
  });

  test('deviceinfo and about', async () => {
    const d = await api('/api/deviceinfo');
    expect(d).toMatchObject({ brand: 'Vu+', model: 'Uno 4K SE', boxtype: 'vuuno4kse', imagedistro: 'openatv', webifver: 'OWIF 2.4.0' });
    expect(d.tuners).toHaveLength(2);
    expect((d.tuners as Array<Record<string, unknown>>)[0]).toEqual(
      expect.objectContaining({ name: 'Tuner A', type: expect.any(String), rec: '', live: 'Das Erste HD', stream: '' }),
    );
    expect((d.ifaces as Array<Record<string, unknown>>)[0].mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    const about = await api('/api/about');
    expect(Object.keys(about).sort()).toEqual(['info', 'service']);
    expect(about.service).toMatchObject({ name: 'Das Erste HD', ref: ERSTE });
  });

  test('unknown path is a 404 with an HTML body', async () => {
    const res = await fetch(`${sim.webUrl}/api/nosuchthing`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('text/html');
    expect(await res.text()).toContain('<html>');
  });

  test('gzip when asked', async () => {
    const { encoding, body } = await new Promise<{ encoding?: string; body: Buffer }>((resolve, reject) => {
      get(`${sim.webUrl}/api/statusinfo`, { headers: { 'Accept-Encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
      }).on('error', reject);
    });
    expect(encoding).toBe('gzip');
    expect(JSON.parse(gunzipSync(body).toString()).inStandby).toBe('false');
  });

  test('faults: html, garbage, hang, refuse', async () => {
    sim.setFault('html');
    const html = await fetch(`${sim.webUrl}/api/statusinfo`);
    expect(html.headers.get('content-type')).toBe('text/html');
    sim.setFault('garbage');
    const garbage = await (await fetch(`${sim.webUrl}/api/statusinfo`)).text();
    expect(() => JSON.parse(garbage)).toThrow();
    sim.setFault('hang');
    await expect(fetch(`${sim.webUrl}/api/statusinfo`, { signal: AbortSignal.timeout(300) })).rejects.toThrow();
    sim.setFault('refuse');
    await expect(fetch(`${sim.webUrl}/api/statusinfo`)).rejects.toThrow();
    sim.setFault(null);
    expect(await api('/api/statusinfo')).toMatchObject({ inStandby: 'false' });
  });

  test('records every request in order', async () => {
    sim.clearRequests();
    await api(`/api/zap?sRef=${enc(ZDF)}`);
    await api('/api/statusinfo');
    expect(sim.requests.map((r) => [r.listener, r.method, r.path])).toEqual([
      ['web', 'GET', '/api/zap'],
      ['web', 'GET', '/api/statusinfo'],
    ]);
    expect(sim.requests[0].query).toEqual({ sRef: ZDF });
  });
});

describe('simulator web interface with options', () => {
  test('Basic auth: 401 with realm OpenWebif, 200 with the right credentials', async () => {
    sim = await startSimulator({ auth: { username: 'root', password: 's3cret' } });
    const denied = await fetch(`${sim.webUrl}/api/statusinfo`);
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toBe('Basic realm="OpenWebif"');
    const wrong = await fetch(`${sim.webUrl}/api/statusinfo`, { headers: { Authorization: `Basic ${Buffer.from('root:nope').toString('base64')}` } });
    expect(wrong.status).toBe(401);
    const ok = await api('/api/statusinfo', { headers: { Authorization: `Basic ${Buffer.from('root:s3cret').toString('base64')}` } });
    expect(ok.inStandby).toBe('false');
  });

  test('tuner count and a null MAC', async () => {
    sim = await startSimulator({ tuners: 4, macNull: true });
    const d = await api('/api/deviceinfo');
    expect(d.tuners).toHaveLength(4);
    expect((d.ifaces as Array<Record<string, unknown>>)[0].mac).toBeNull();
  });
});
