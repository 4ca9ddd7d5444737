// A channel whose name tries to forge entries (`Evil",\n#EXTINF:-1,x`) comes out of the playlist,
// the guide, the HDHomeRun lineup and the web page's channel list as one entry each, named as the
// box names it.
import { tvValidate } from '../guide/validate';
import { channelsLoaded, DAS_ERSTE_HD, fetchBytes, Stack, startStack, until } from '../helpers/stack';

const EVIL = 'Evil",\n#EXTINF:-1,x';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ block: { hdhr: { enabled: true, discovery: false }, epg: { days: 1 } }, app: { guideTiming: { firstFetchMs: 100 } } });
  await channelsLoaded(stack);
  // The bouquet lists the entry's name; the guide and the box's answers use the channel's.
  const entry = stack.sim.bouquets[0].entries.find((e) => e.channel?.ref === DAS_ERSTE_HD)!;
  entry.name = EVIL;
  entry.channel!.name = EVIL;
  await stack.app.receivers[0].load();
});

afterAll(async () => {
  await stack?.stop();
});

const get = async (path: string): Promise<string> => {
  const answer = await fetchBytes(`${stack.url}${path}`, Infinity, 10_000);
  expect(answer.status).toBe(200);
  return answer.body.toString('utf8');
};

it('loads the name as the box sends it', () => {
  expect(stack.app.receivers[0].channels().find(DAS_ERSTE_HD)?.name).toBe(EVIL);
});

it('is one playlist entry', async () => {
  const lines = (await get('/playlist.m3u')).split('\n');
  const count = stack.app.receivers[0].channels().size;
  expect(lines.filter((l) => l.startsWith('#EXTINF'))).toHaveLength(count);
  expect(lines.filter((l) => l.startsWith('http'))).toHaveLength(count);
  const evil = lines.filter((l) => l.includes('Evil'));
  expect(evil).toHaveLength(1);
  expect(evil[0]).toMatch(/^#EXTINF:-1 tvg-id="283d-3fb-1-c00000\.xg2g" tvg-chno="1" tvg-name="Evil', #EXTINF:-1,x" .*,Evil", #EXTINF:-1,x$/);
});

it('is one channel of the guide, which stays valid XMLTV', async () => {
  let xml = '';
  await until(async () => {
    const answer = await fetchBytes(`${stack.url}/xmltv.xml`, Infinity, 10_000);
    xml = answer.body.toString('utf8');
    return answer.status === 200 && xml.includes('Evil');
  }, 20_000, 'the guide with the new name');
  const names = [...xml.matchAll(/<display-name>([^<]*)<\/display-name>/g)].map((m) => m[1]);
  expect(names.filter((n) => n.includes('Evil'))).toEqual(['Evil&quot;, #EXTINF:-1,x']);
  expect(new Set([...xml.matchAll(/<channel id="([^"]+)">/g)].map((m) => m[1])).size).toBe(names.length);
  const validation = await tvValidate(xml);
  expect(validation.complaints).toEqual([]);
});

it('is one lineup entry, and one entry of the web page\'s list', async () => {
  const lineup = JSON.parse(await get('/lineup.json')) as Array<{ GuideName: string; GuideNumber: string }>;
  expect(lineup.filter((e) => e.GuideName.includes('Evil'))).toEqual([expect.objectContaining({ GuideName: EVIL, GuideNumber: '1' })]);
  const tv = stack.app.receivers[0].channels().all.filter((c) => c.kind === 'tv' && c.ref.stype !== 2);
  expect(lineup).toHaveLength(tv.length);

  const list = JSON.parse(await get('/api/channels')) as { receivers: Array<{ bouquets: Array<{ channels: Array<{ name: string }> }> }> };
  const names = list.receivers.flatMap((r) => r.bouquets.flatMap((b) => b.channels.map((c) => c.name)));
  expect(names.filter((n) => n.includes('Evil'))).toEqual([EVIL]);
});
