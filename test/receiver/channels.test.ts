// Bouquet name resolution, channel list merging and channel lookup.
import { ChannelList, loadChannels, type Channel, type ChannelSource } from '../../src/receiver/channels';
import { channelId, parseServiceRef } from '../../src/receiver/service-ref';
import type { Bouquet, BouquetService } from '../../src/receiver/types';

const bq = (file: string, kind = 1): string => `1:7:${kind}:0:0:0:0:0:0:0:FROM BOUQUET "${file}" ORDER BY bouquet`;
const ch = (ref: string, name: string, position = 1): BouquetService => ({ ref: parseServiceRef(ref), name, program: parseServiceRef(ref).sid, position });

const ERSTE = ch('1:0:19:283D:3FB:1:C00000:0:0:0:', 'Das Erste HD', 1);
const ZDF = ch('1:0:19:2B66:3F3:1:C00000:0:0:0:', 'ZDF HD', 2);
const SPORT1 = ch('1:0:19:3A9E:40F:1:C00000:0:0:0:', 'SPORT1 HD', 1);
const BAYERN3 = ch('1:0:2:6F1D:44D:1:C00000:0:0:0:', 'Bayern 3', 1);

class FakeBox implements ChannelSource {
  calls: string[] = [];
  tv: Bouquet[] = [
    { ref: bq('userbouquet.favourites.tv'), name: 'Favourites (TV)' },
    { ref: bq('userbouquet.sport.tv'), name: 'Sport (TV)' },
  ];
  radio: Bouquet[] = [{ ref: bq('userbouquet.favourites.radio', 2), name: 'Favourites (Radio)' }];
  content = new Map<string, BouquetService[]>([
    [bq('userbouquet.favourites.tv'), [ERSTE, ZDF]],
    [bq('userbouquet.sport.tv'), [SPORT1, { ...ZDF, position: 2 }]],
    [bq('userbouquet.favourites.radio', 2), [BAYERN3]],
  ]);

  async bouquets(kind: 'tv' | 'radio' = 'tv'): Promise<Bouquet[]> {
    this.calls.push(`bouquets ${kind}`);
    return kind === 'tv' ? this.tv : this.radio;
  }

  async channels(ref: string): Promise<BouquetService[]> {
    this.calls.push(`channels ${ref}`);
    return this.content.get(ref) ?? [];
  }
}

describe('loadChannels', () => {
  it('concatenates bouquets in config order and keeps the first of duplicates', async () => {
    const box = new FakeBox();
    const { channels, missing } = await loadChannels(box, ['sport (tv)', 'FAVOURITES (TV)']);
    expect(channels.all.map((c) => c.name)).toEqual(['SPORT1 HD', 'ZDF HD', 'Das Erste HD']);
    expect(channels.all.map((c) => c.bouquet)).toEqual(['Sport (TV)', 'Sport (TV)', 'Favourites (TV)']);
    expect(channels.all.map((c) => c.number)).toEqual([1, 2, 3]);
    expect(channels.all[2].id).toBe('283d_3fb_1_c00000');
    expect(missing).toEqual([]);
    expect(box.calls).toEqual(['bouquets tv', `channels ${bq('userbouquet.sport.tv')}`, `channels ${bq('userbouquet.favourites.tv')}`]);
  });

  it('looks in the radio bouquets only for names the TV list lacks, and reports unknown names', async () => {
    const box = new FakeBox();
    const { channels, missing } = await loadChannels(box, ['Favourites (TV)', ' favourites  (radio) ', 'Kids']);
    expect(channels.all.map((c) => c.name)).toEqual(['Das Erste HD', 'ZDF HD', 'Bayern 3']);
    expect(channels.all.map((c) => c.kind)).toEqual(['tv', 'tv', 'radio']);
    expect(missing).toEqual(['Kids']);
    expect(box.calls.filter((c) => c.startsWith('bouquets'))).toEqual(['bouquets tv', 'bouquets radio']);
  });

  it('loads a bouquet named twice once', async () => {
    const box = new FakeBox();
    await loadChannels(box, ['Favourites (TV)', 'favourites (tv)']);
    expect(box.calls.filter((c) => c.startsWith('channels'))).toHaveLength(1);
  });

  it('asks nothing for an empty list', async () => {
    const box = new FakeBox();
    const { channels, missing } = await loadChannels(box, []);
    expect([channels.size, missing]).toEqual([0, []]);
    expect(box.calls).toEqual([]);
  });
});

describe('ChannelList.find', () => {
  const model = (c: BouquetService, number: number): Channel => ({ ref: c.ref, name: c.name, bouquet: 'Favourites (TV)', number, kind: 'tv', id: channelId(c.ref) });
  const [erste, zdf, sport1] = [ERSTE, ZDF, SPORT1].map((c, i) => model(c, i + 1));
  const list = new ChannelList([erste, zdf, sport1]);
  const findChannel = (l: ChannelList, text: string): Channel | undefined => l.find(text);

  it('finds by reference, also without the trailing colon or in lower case', () => {
    expect(findChannel(list, '1:0:19:2B66:3F3:1:C00000:0:0:0:')).toBe(zdf);
    expect(findChannel(list, '1:0:19:2b66:3f3:1:c00000:0:0:0')).toBe(zdf);
  });

  it('finds the same service listed with another service type', () => {
    expect(findChannel(list, '1:0:1:283D:3FB:1:C00000:0:0:0:')).toBe(erste);
  });

  it('finds by short id and by name', () => {
    expect(findChannel(list, '3a9e_40f_1_c00000')).toBe(sport1);
    expect(findChannel(list, ' das  erste hd ')).toBe(erste);
  });

  it('returns undefined for anything else', () => {
    expect(findChannel(list, 'Das Erste')).toBeUndefined();
    expect(findChannel(list, '1:0:19:1:1:1:C00000:0:0:0:')).toBeUndefined();
    expect(findChannel(list, '')).toBeUndefined();
  });
});
