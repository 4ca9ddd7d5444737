// The OpenWebIF client against the receiver simulator over real HTTP: every endpoint and the
// quirks of docs/openwebif-api.md, auth, faults, and loading channel lists.
import { inspect } from 'node:util';
import { loadChannels } from '../../src/receiver/channels';
import { OpenWebIfClient, type ReceiverConnection } from '../../src/receiver/client';
import { ReceiverError } from '../../src/receiver/errors';
import { KEY_CODES, parseKey } from '../../src/receiver/keys';
import { startSimulator, type Simulator } from '../../src/simulator';

const FAVOURITES = '1:7:1:0:0:0:0:0:0:0:FROM BOUQUET "userbouquet.favourites.tv" ORDER BY bouquet';
const ERSTE = '1:0:19:283D:3FB:1:C00000:0:0:0:';
const ZDF = '1:0:19:2B66:3F3:1:C00000:0:0:0:';
const FIX_FOXI = '1:0:16:2F1C:441:1:C00000:0:0:0:';
const SKY_CINEMA = '1:0:19:6A:4:85:C00000:0:0:0:';
const SKY_KRIMI = '1:0:16:DB:3:85:C00000:0:0:0:';
const IPTV = '4097:0:1:0:0:0:0:0:0:0:http%3a//iptv.example.net/live/euronews.m3u8:Euronews (IPTV)';
const PASSWORD = 'sim-Secret-99';

const portOf = (url: string): number => Number(new URL(url).port);

function connect(sim: Simulator, extra: Partial<ReceiverConnection> = {}): OpenWebIfClient {
  return new OpenWebIfClient({ name: 'Sim Box', host: '127.0.0.1', port: portOf(sim.webUrl), ...extra });
}

async function failure(p: Promise<unknown>): Promise<ReceiverError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ReceiverError);
    return err as ReceiverError;
  }
  throw new Error('expected the call to fail');
}

const lastQuery = (sim: Simulator, path: string): Record<string, string> | undefined =>
  [...sim.requests].reverse().find((r) => r.listener === 'web' && r.path === path)?.query;

describe('against the simulator', () => {
  let sim: Simulator;
  let client: OpenWebIfClient;

  beforeAll(async () => {
    sim = await startSimulator({ tuners: 2 });
  });
  afterAll(async () => {
    await sim.close();
  });
  beforeEach(() => {
    sim.setFault(null);
    sim.setState({ power: 'on', channelRef: ERSTE, volume: 50, muted: false, recording: false });
    sim.clearRequests();
    client = connect(sim);
  });
  afterEach(() => client.close());

  describe('deviceInfo', () => {
    it('reports the box, its tuners and its MAC as identity', async () => {
      const info = await client.deviceInfo();
      expect(info).toMatchObject({ brand: 'Vu+', model: 'Uno 4K SE', boxtype: 'vuuno4kse', imageDistro: 'openatv', webifVersion: 'OWIF 2.4.0', tunerCount: 2 });
      expect(info.tuners.map((t) => t.name)).toEqual(['Tuner A', 'Tuner B']);
      expect(info.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      expect(info.identity).toBe(info.mac);
    });
  });

  describe('bouquets and channels', () => {
    it('lists TV and radio bouquets as the box has them', async () => {
      const tv = await client.bouquets();
      expect(tv).toEqual(sim.bouquets.filter((b) => b.kind === 'tv').map((b) => ({ ref: b.ref, name: b.name })));
      expect(tv.map((b) => b.name)).toContain('Favourites (TV)');
      expect((await client.bouquets('radio')).map((b) => b.name)).toEqual(['Favourites (Radio)']);
      expect(lastQuery(sim, '/api/bouquets')).toEqual({ stype: 'radio' });
    });

    it('lists only playable channels, in bouquet order, names untouched', async () => {
      const channels = await client.channels(FAVOURITES);
      const fav = sim.bouquets.find((b) => b.ref === FAVOURITES)!;
      const expected = fav.entries.filter((e) => e.channel && e.ref.split(':')[1] === '0').map((e) => e.name);
      expect(channels.map((c) => c.name)).toEqual(expected);
      expect(channels.map((c) => c.name)).toContain('Fix & Foxi');
      expect(channels.map((c) => c.name)).not.toContain('tagesschau24 HD');
      expect(channels.every((c) => c.ref.flags === 0)).toBe(true);
      expect(channels[0]).toMatchObject({ name: 'Das Erste HD', program: 10301, position: 1 });
      expect(channels[0].ref.ref).toBe(ERSTE);
      expect(channels.find((c) => c.ref.type === 4097)?.ref.ref).toBe(IPTV);
      expect(lastQuery(sim, '/api/getservices')).toEqual({ sRef: FAVOURITES });
    });

    it('gives an empty list for a bouquet the box does not have', async () => {
      expect(await client.channels('1:7:1:0:0:0:0:0:0:0:FROM BOUQUET "userbouquet.nope.tv" ORDER BY bouquet')).toEqual([]);
    });

    it('loads configured bouquets through the real client', async () => {
      const { channels, missing } = await loadChannels(client, ['favourites (tv)', 'Sport (TV)', 'Favourites (Radio)', 'Kids (TV)']);
      expect(missing).toEqual(['Kids (TV)']);
      const names = channels.all.map((c) => c.name);
      expect(names.filter((n) => n === 'ZDF HD')).toHaveLength(1);
      expect(names.indexOf('Das Erste HD')).toBe(0);
      expect(names.indexOf('SPORT1 HD')).toBeGreaterThan(names.indexOf('Euronews (IPTV)'));
      expect(names.slice(-3)).toEqual(['Bayern 3', 'Deutschlandfunk', 'WDR 2 Rheinland']);
      expect(new Set(channels.all.map((c) => c.ref.ref)).size).toBe(channels.size);
    });
  });

  describe('status', () => {
    it('parses the string booleans and names the channel and programme', async () => {
      sim.setState({ recording: true });
      const s = await client.status();
      expect(s).toMatchObject({ inStandby: false, volume: 50, muted: false, isRecording: true, isStreaming: false });
      expect(s.channel?.ref.ref).toBe(ERSTE);
      expect(s.channel?.name).toBe('Das Erste HD');
      expect(s.programme?.title).toEqual(expect.any(String));
      expect(s.programme?.begin).toBeInstanceOf(Date);
      expect(s.programme!.end!.getTime()).toBeGreaterThan(s.programme!.begin!.getTime());
    });

    it('drops the channel in standby', async () => {
      sim.setState({ power: 'standby' });
      const s = await client.status();
      expect(s.inStandby).toBe(true);
      expect(s.muted).toBe(true);
      expect(s.channel).toBeUndefined();
      expect(s.programme).toBeUndefined();
    });

    it('has a channel but no programme for a channel without EPG', async () => {
      sim.setState({ channelRef: FIX_FOXI });
      const s = await client.status();
      expect(s.channel?.name).toBe('Fix & Foxi');
      expect(s.programme).toBeUndefined();
    });
  });

  describe('zap', () => {
    it('tunes the channel, sending the whole ref', async () => {
      await client.zap(ZDF);
      expect(sim.state.channelRef).toBe(ZDF);
      expect((await client.status()).channel?.name).toBe('ZDF HD');
      expect(lastQuery(sim, '/api/zap')).toEqual({ sRef: ZDF });
    });

    it('sends IPTV refs with their own %3a intact', async () => {
      await client.zap(IPTV);
      expect(lastQuery(sim, '/api/zap')).toEqual({ sRef: IPTV });
    });

    it('does not wake a box in standby: wake first, then zap', async () => {
      sim.setState({ power: 'standby' });
      await client.zap(ZDF);
      expect(sim.state.power).toBe('standby');
      expect(sim.state.channelRef).toBe(ERSTE);
      expect(await client.power('wake')).toEqual({ wasInStandby: true });
      await client.zap(ZDF);
      expect((await client.status()).channel?.ref.ref).toBe(ZDF);
    });

    it('turns a blocked channel into a rejected error with the box message', async () => {
      const err = await failure(client.zap(SKY_KRIMI));
      expect(err.kind).toBe('rejected');
      expect(err.boxMessage).toMatch(/blocked by parental control/i);
      expect(err.message).toContain(`Sim Box (127.0.0.1:${portOf(sim.webUrl)}) rejected /api/zap:`);
      expect(sim.state.channelRef).toBe(ERSTE);
    });
  });

  describe('power', () => {
    it('reports the state before the change; a re-poll shows the new one', async () => {
      expect(await client.power('standby')).toEqual({ wasInStandby: false });
      expect((await client.status()).inStandby).toBe(true);
      expect(await client.power('standby')).toEqual({ wasInStandby: true });
      expect(await client.power('toggle')).toEqual({ wasInStandby: true });
      expect((await client.status()).inStandby).toBe(false);
      expect(await client.power('toggle')).toEqual({ wasInStandby: false });
      expect(await client.power('wake')).toEqual({ wasInStandby: true });
      expect(sim.state.power).toBe('on');
      expect(lastQuery(sim, '/api/powerstate')).toEqual({ newstate: '4' });
    });

    it('sends restart and reboot codes', async () => {
      expect(await client.power('restartGui')).toEqual({ wasInStandby: false });
      expect(lastQuery(sim, '/api/powerstate')).toEqual({ newstate: '3' });
      expect(await client.power('reboot')).toEqual({ wasInStandby: false });
      expect(lastQuery(sim, '/api/powerstate')).toEqual({ newstate: '2' });
    });

    it('deep standby answers, then the box is unreachable', async () => {
      expect(await client.power('deepStandby')).toEqual({ wasInStandby: false });
      const err = await failure(client.status());
      expect(err.kind).toBe('unreachable');
      expect(err.message).toContain('deep standby');
    });
  });

  describe('volume', () => {
    it('sets the volume as setNN and steps, mutes', async () => {
      expect(await client.volumeSet(55)).toEqual({ volume: 55, muted: false });
      expect(lastQuery(sim, '/api/vol')).toEqual({ set: 'set55' });
      expect(await client.volumeSet(0)).toEqual({ volume: 0, muted: false });
      expect(lastQuery(sim, '/api/vol')).toEqual({ set: 'set0' });
      await client.volumeSet(55);
      expect((await client.volumeUp()).volume).toBeGreaterThan(55);
      expect((await client.volumeDown()).volume).toBe(55);
      expect(await client.toggleMute()).toEqual({ volume: 55, muted: true });
      expect((await client.status()).muted).toBe(true);
      expect(await client.toggleMute()).toEqual({ volume: 55, muted: false });
    });

    it('is right to never send a bare number: the box rejects it', async () => {
      const res = await fetch(`${sim.webUrl}/api/vol?set=55`);
      expect(await res.json()).toMatchObject({ result: false });
    });
  });

  describe('remote keys', () => {
    it('sends key codes by number and by name', async () => {
      await client.remoteKey(KEY_CODES.INFO);
      await client.remoteKey(parseKey('channel_up'));
      expect(sim.keys.slice(-2)).toEqual([358, 402]);
      expect(lastQuery(sim, '/api/remotecontrol')).toEqual({ command: '402' });
      expect(sim.state.channelRef).not.toBe(ERSTE);
    });
  });

  describe('EPG', () => {
    it('getcurrent gives channel and now/next, decoded', async () => {
      const cur = await client.current();
      expect(cur.channel).toMatchObject({ name: 'Das Erste HD', provider: 'ARD' });
      expect(cur.channel?.ref.ref).toBe(ERSTE);
      expect(cur.now?.begin).toBeInstanceOf(Date);
      expect(cur.next!.begin!.getTime()).toBe(cur.now!.begin!.getTime() + cur.now!.durationSec * 1000);
      expect(cur.now?.longDescription).toContain('Mehr Informationen unter "Details" & im Videotext.');
    });

    it('getcurrent has no events for a channel without EPG, and nothing in standby', async () => {
      sim.setState({ channelRef: FIX_FOXI });
      expect(await client.current()).toMatchObject({ channel: { name: 'Fix & Foxi' }, now: null, next: null });
      sim.setState({ power: 'standby' });
      expect(await client.current()).toEqual({ now: null, next: null });
    });

    it('epgnow decodes HTML entities the box escaped; getservices names stay as they are', async () => {
      const raw = await (await fetch(`${sim.webUrl}/api/epgnow?bRef=${encodeURIComponent(FAVOURITES)}`)).text();
      expect(raw).toContain('&amp;');
      expect(raw).toContain('&quot;');
      const events = await client.epgNow(FAVOURITES);
      expect(lastQuery(sim, '/api/epgnow')).toEqual({ bRef: FAVOURITES });
      const withEpg = events.filter((e) => e.begin !== null);
      expect(withEpg.length).toBeGreaterThan(3);
      for (const e of withEpg) {
        expect(e.longDescription).toContain('Mehr Informationen unter "Details" & im Videotext.');
        expect(`${e.title} ${e.shortDescription} ${e.channelName}`).not.toMatch(/&(amp|lt|gt|quot|#x27|#39);/);
      }
      const foxi = events.find((e) => e.ref.ref === FIX_FOXI)!;
      expect(foxi).toMatchObject({ channelName: 'Fix & Foxi', title: 'N/A', begin: null });
      const channels = await client.channels(FAVOURITES);
      expect(channels.find((c) => c.ref.ref === FIX_FOXI)?.name).toBe('Fix & Foxi');
    });

    it('epgnext follows epgnow', async () => {
      const now = await client.epgNow(FAVOURITES);
      const next = await client.epgNext(FAVOURITES);
      const a = now.find((e) => e.ref.ref === ERSTE)!;
      const b = next.find((e) => e.ref.ref === ERSTE)!;
      expect(b.begin!.getTime()).toBe(a.begin!.getTime() + a.durationSec * 1000);
      expect(b.id).not.toBe(a.id);
    });
  });

  describe('streamTarget', () => {
    it('reads URL, streaming port and program from stream.m3u', async () => {
      const t = await client.streamTarget(ERSTE, 'Das Erste HD');
      expect(t).toEqual({ url: `${sim.streamUrl}/${ERSTE}`, port: portOf(sim.streamUrl), program: 10301 });
      expect(lastQuery(sim, '/web/stream.m3u')).toEqual({ ref: ERSTE, name: 'Das Erste HD' });
    });

    it('learns the relay port for channels routed through the descrambler', async () => {
      const t = await client.streamTarget(SKY_CINEMA);
      expect(t.port).toBe(portOf(sim.relayUrl));
      expect(t.port).not.toBe(portOf(sim.streamUrl));
      expect(t.program).toBe(0x6a);
    });
  });

  describe('faults', () => {
    it.each([
      ['html', 'protocol', 'an HTML page instead of JSON'],
      ['garbage', 'protocol', 'text that is not JSON'],
      ['refuse', 'unreachable', 'Sim Box'],
    ] as const)('turns the %s fault into a %s error, then recovers', async (fault, kind, text) => {
      sim.setFault(fault);
      const err = await failure(client.status());
      expect(err.kind).toBe(kind);
      expect(err.message).toContain(text);
      sim.setFault(null);
      expect((await client.status()).volume).toBe(50);
    });

    it('times out on a box that hangs', async () => {
      client.close();
      client = connect(sim, { timeoutMs: 300 });
      sim.setFault('hang');
      const err = await failure(client.deviceInfo());
      expect(err.kind).toBe('timeout');
      expect(err.endpoint).toBe('/api/deviceinfo');
    });
  });

  it('sends parallel calls one after another, in call order', async () => {
    const calls = [client.status(), client.deviceInfo(), client.bouquets(), client.current(), client.status()];
    await Promise.all(calls);
    expect(sim.requests.filter((r) => r.listener === 'web').map((r) => r.path)).toEqual([
      '/api/statusinfo',
      '/api/deviceinfo',
      '/api/bouquets',
      '/api/getcurrent',
      '/api/statusinfo',
    ]);
  });
});

describe('simulator with a null MAC', () => {
  it('falls back to the host as identity', async () => {
    const sim = await startSimulator({ tuners: 4, macNull: true });
    const client = connect(sim);
    try {
      const info = await client.deviceInfo();
      expect(info.mac).toBeNull();
      expect(info.identity).toBe('127.0.0.1');
      expect(info.tunerCount).toBe(4);
    } finally {
      client.close();
      await sim.close();
    }
  });
});

describe('simulator with authentication', () => {
  let sim: Simulator;
  let client: OpenWebIfClient | undefined;

  beforeAll(async () => {
    sim = await startSimulator({ tuners: 2, auth: { username: 'root', password: PASSWORD } });
  });
  afterAll(async () => {
    await sim.close();
  });
  afterEach(() => client?.close());

  it('works with the right credentials', async () => {
    client = connect(sim, { username: 'root', password: PASSWORD });
    expect((await client.status()).inStandby).toBe(false);
    expect((await client.channels(FAVOURITES)).length).toBeGreaterThan(5);
  });

  it('reports wrong credentials without the password anywhere', async () => {
    const wrong = `${PASSWORD}-typo`;
    client = connect(sim, { username: 'root', password: wrong });
    const err = await failure(client.status());
    expect(err.kind).toBe('auth');
    expect(err.message).toContain('refused the user name or password (HTTP 401)');
    expect(err.message).toContain('check username/password');
    const b64 = Buffer.from(`root:${wrong}`).toString('base64');
    for (const view of [err.message, JSON.stringify(err), err.stack ?? '', inspect(err, { depth: 20, showHidden: true })]) {
      expect(view).not.toContain(wrong);
      expect(view).not.toContain(b64);
    }
  });

  it('asks for credentials when none are set', async () => {
    client = connect(sim);
    const err = await failure(client.deviceInfo());
    expect(err.kind).toBe('auth');
    expect(err.message).toContain('set username/password');
  });
});
