/**
 * The simulated box's channel data: bouquets (with the markers, hidden entries, sub-bouquets and IPTV
 * refs a real favourites list holds), per-channel stream profile and routing, and a programme guide
 * generated around the current time. Raw strings live here; HTML escaping happens at the API edge.
 */
import { basename } from 'node:path';
import { parseServiceRef } from '../receiver/service-ref';
import { SIM_EPG_SLOT_S } from '../settings';

/** The cached stream a channel is served from. */
export type SimProfile = 'hd' | 'sd' | 'aac' | 'radio';

export interface SimProgramme {
  title: string;
  shortdesc: string;
  longdesc: string;
  genre: string;
  genreid: number;
}

export interface SimChannel {
  /** Canonical reference, exactly as the box writes it. */
  ref: string;
  /** Display name, not escaped (may contain `&`). */
  name: string;
  provider: string;
  /** null: the streaming port cannot serve it (IPTV services). */
  profile: SimProfile | null;
  /** stream.m3u points this channel at the descrambling relay instead of the streaming port. */
  relay: boolean;
  /** Parental control blocks zapping to it. */
  blocked: boolean;
  /** Programme cycle for the generated EPG; empty = no EPG for this channel. */
  programmes: SimProgramme[];
  /** A real TS capture served byte-for-byte instead of a generated profile. */
  capture?: string;
  width: number;
  height: number;
}

export interface SimBouquetEntry {
  ref: string;
  name: string;
  /** Set for playable services (flags 0). */
  channel?: SimChannel;
  /** Set for sub-bouquet entries (flags 7). */
  bouquet?: SimBouquet;
}

export interface SimBouquet {
  ref: string;
  name: string;
  kind: 'tv' | 'radio';
  entries: SimBouquetEntry[];
}

/** One EPG event in OpenWebIF's JSON shape (title and descriptions still unescaped here). */
export interface SimEvent {
  id: number;
  begin_timestamp: number;
  duration_sec: number;
  title: string;
  shortdesc: string;
  longdesc: string;
  sref: string;
  sname: string;
  now_timestamp: number;
  remaining: number;
  genre: string;
  genreid: number;
}

const tvBouquetRef = (file: string): string => `1:7:1:0:0:0:0:0:0:0:FROM BOUQUET "${file}" ORDER BY bouquet`;
const radioBouquetRef = (file: string): string => `1:7:2:0:0:0:0:0:0:0:FROM BOUQUET "${file}" ORDER BY bouquet`;

export const FAVOURITES_TV_REF = tvBouquetRef('userbouquet.favourites.tv');
export const CAPTURES_TV_REF = tvBouquetRef('userbouquet.captures.tv');

const p = (title: string, shortdesc: string, genre = 'Nachrichten', genreid = 0x20, longdesc = ''): SimProgramme => ({
  title,
  shortdesc,
  longdesc: longdesc || `${shortdesc} Mehr Informationen unter "Details" & im Videotext.`,
  genre,
  genreid,
});

interface ChannelSpec {
  ref: string;
  name: string;
  provider: string;
  profile: SimProfile | null;
  relay?: boolean;
  blocked?: boolean;
  epg?: boolean;
  width?: number;
  height?: number;
}

/** Programme titles deliberately contain `&`, `<`, `>`, quotes and umlauts: the API must escape them. */
const PROGRAMMES: SimProgramme[][] = [
  [p('Tagesschau', 'Nachrichten aus aller Welt.'), p('Tatort: Borowski & die Angst', 'Krimi, Deutschland 2024', 'Krimi', 0x10), p('Tagesthemen', 'Mit dem Wetter.')],
  [p('heute journal', 'Nachrichten & Wetter.'), p('Der Bergdoktor', 'Arztserie <Staffel 17>', 'Serie', 0x15), p('Markus Lanz', 'Talk mit "prominenten" Gästen.', 'Talk', 0x33)],
  [p('ARTE Journal', 'Europäische Nachrichten.'), p('Les Misérables <Teil 1>', 'Drama nach Victor Hugo', 'Spielfilm', 0x10), p('Tracks', 'Pop & Kultur.', 'Musik', 0x60)],
  [p('Kulturzeit', 'Das Kulturmagazin.', 'Kultur', 0x70), p('NANO', 'Wissenschaft > Alltag', 'Wissen', 0x90)],
  [p('Sportschau', 'Bundesliga: Bayern – Dortmund 2:1', 'Sport', 0x40), p("Sport1 News 'Kompakt'", 'Alle Ergebnisse.', 'Sport', 0x40)],
  [p('Servus Nachrichten', 'Nachrichten aus Österreich.'), p('Bergwelten', 'Berge & Menschen.', 'Doku', 0x90)],
  [p('Blockbuster des Monats', 'Action, USA 2023', 'Spielfilm', 0x10), p('Sky Premiere <Special>', 'Hinter den Kulissen.', 'Magazin', 0x80)],
  [p('Hamburg Journal', 'Regionales aus Hamburg.'), p('Sachsenspiegel', 'Das Regionalmagazin.')],
  [p('Bayern 3 am Morgen', 'Musik & Service.', 'Musik', 0x60), p('Der Tag', 'Informationen am Abend.')],
];

function channel(spec: ChannelSpec, programmes: SimProgramme[]): SimChannel {
  const ref = parseServiceRef(spec.ref).ref;
  const hd = spec.profile === 'hd' || spec.profile === 'aac';
  return {
    ref,
    name: spec.name,
    provider: spec.provider,
    profile: spec.profile,
    relay: spec.relay ?? false,
    blocked: spec.blocked ?? false,
    programmes: spec.epg === false ? [] : programmes,
    width: spec.profile === 'radio' || spec.profile === null ? 0 : hd ? 1280 : 720,
    height: spec.profile === 'radio' || spec.profile === null ? 0 : hd ? 720 : 576,
  };
}

const entry = (ch: SimChannel): SimBouquetEntry => ({ ref: ch.ref, name: ch.name, channel: ch });
const marker = (n: number, label: string): SimBouquetEntry => ({ ref: `1:64:${n}:0:0:0:0:0:0:0::${label}`, name: label });

export interface ChannelData {
  bouquets: SimBouquet[];
  /** Every channel by canonical ref, including those only in sub-bouquets and captures. */
  channels: Map<string, SimChannel>;
  /** Every bouquet by ref, including sub-bouquets (not listed by /api/bouquets). */
  allBouquets: Map<string, SimBouquet>;
  /** The channel the box shows at start. */
  initialRef: string;
}

export interface CaptureSpec {
  file: string;
  name?: string;
  ref?: string;
  /** First program number of the capture's PAT, for a default ref. */
  sid?: number;
}

/** Build a fresh copy of the channel data (each simulator owns its own). */
export function buildChannelData(captures: CaptureSpec[] = []): ChannelData {
  const [ard, zdf, arte, sat3, sport, servus, sky, regional, radio] = PROGRAMMES;
  const dasErste = channel({ ref: '1:0:19:283D:3FB:1:C00000:0:0:0:', name: 'Das Erste HD', provider: 'ARD', profile: 'hd' }, ard);
  const zdfHd = channel({ ref: '1:0:19:2B66:3F3:1:C00000:0:0:0:', name: 'ZDF HD', provider: 'ZDFvision', profile: 'hd' }, zdf);
  const arteHd = channel({ ref: '1:0:19:283E:3FB:1:C00000:0:0:0:', name: 'arte HD', provider: 'ARD', profile: 'hd' }, arte);
  const sat3Hd = channel({ ref: '1:0:19:2B8E:3F2:1:C00000:0:0:0:', name: '3sat HD', provider: 'ZDFvision', profile: 'hd' }, sat3);
  const servusHd = channel({ ref: '1:0:19:132F:3EF:1:C00000:0:0:0:', name: 'ServusTV HD Deutschland', provider: 'ServusTV', profile: 'aac' }, servus);
  const fixFoxi = channel({ ref: '1:0:16:2F1C:441:1:C00000:0:0:0:', name: 'Fix & Foxi', provider: 'Fix & Foxi TV', profile: 'hd', epg: false }, []);
  const erstesSd = channel({ ref: '1:0:1:6DCA:44D:1:C00000:0:0:0:', name: 'Das Erste', provider: 'ARD', profile: 'sd' }, ard);
  const skyCinema = channel({ ref: '1:0:19:6A:4:85:C00000:0:0:0:', name: 'Sky Cinema Premiere HD', provider: 'Sky', profile: 'hd', relay: true }, sky);
  const skyKrimi = channel({ ref: '1:0:16:DB:3:85:C00000:0:0:0:', name: 'Sky Krimi', provider: 'Sky', profile: 'hd', blocked: true }, sky);
  const skySport = channel({ ref: '1:0:19:4E:B:85:C00000:0:0:0:', name: 'Sky Sport News HD', provider: 'Sky', profile: 'hd', relay: true }, sport);
  const sport1 = channel({ ref: '1:0:19:3A9E:40F:1:C00000:0:0:0:', name: 'SPORT1 HD', provider: 'Sport1', profile: 'hd' }, sport);
  const eurosport = channel({ ref: '1:0:19:1B7B:426:1:C00000:0:0:0:', name: 'Eurosport 1 HD', provider: 'Eurosport', profile: 'aac' }, sport);
  const ndr = channel({ ref: '1:0:19:2B7A:3F3:1:C00000:0:0:0:', name: 'NDR FS HH HD', provider: 'ARD', profile: 'hd' }, regional);
  const mdr = channel({ ref: '1:0:19:2B84:3F3:1:C00000:0:0:0:', name: 'MDR Sachsen HD', provider: 'ARD', profile: 'hd' }, regional);
  const iptv = channel({ ref: '4097:0:1:0:0:0:0:0:0:0:http%3a//iptv.example.net/live/euronews.m3u8:Euronews (IPTV)', name: 'Euronews (IPTV)', provider: '', profile: null, epg: false }, []);
  const hidden = channel({ ref: '1:512:19:2887:3FB:1:C00000:0:0:0:', name: 'tagesschau24 HD', provider: 'ARD', profile: 'hd' }, ard);
  const bayern3 = channel({ ref: '1:0:2:6F1D:44D:1:C00000:0:0:0:', name: 'Bayern 3', provider: 'ARD', profile: 'radio' }, radio);
  const dlf = channel({ ref: '1:0:2:6F09:3F1:1:C00000:0:0:0:', name: 'Deutschlandfunk', provider: 'ARD', profile: 'radio' }, radio);
  const wdr2 = channel({ ref: '1:0:2:7941:3F5:1:C00000:0:0:0:', name: 'WDR 2 Rheinland', provider: 'ARD', profile: 'radio', epg: false }, []);

  const sub: SimBouquet = {
    ref: tvBouquetRef('userbouquet.sub.tv'),
    name: 'Regional',
    kind: 'tv',
    entries: [entry(ndr), entry(mdr)],
  };
  // Flags 7 (directory|mustDescent|canDescent): the bouquet ref itself is the entry.
  const subEntry: SimBouquetEntry = { ref: sub.ref, name: sub.name, bouquet: sub };

  const favourites: SimBouquet = {
    ref: FAVOURITES_TV_REF,
    name: 'Favourites (TV)',
    kind: 'tv',
    entries: [
      marker(1, '--- Deutsch ---'),
      entry(dasErste),
      entry(zdfHd),
      entry(arteHd),
      entry(sat3Hd),
      { ref: hidden.ref, name: hidden.name },
      entry(servusHd),
      entry(fixFoxi),
      marker(2, '--- SD & Pay-TV ---'),
      entry(erstesSd),
      entry(skyCinema),
      entry(skyKrimi),
      subEntry,
      entry(iptv),
    ],
  };
  const sportBouquet: SimBouquet = {
    ref: tvBouquetRef('userbouquet.sport.tv'),
    name: 'Sport (TV)',
    kind: 'tv',
    entries: [marker(3, '--- Fußball ---'), entry(skySport), entry(sport1), entry(eurosport), entry(zdfHd)],
  };
  const radioBouquet: SimBouquet = {
    ref: radioBouquetRef('userbouquet.favourites.radio'),
    name: 'Favourites (Radio)',
    kind: 'radio',
    entries: [entry(bayern3), entry(dlf), entry(wdr2)],
  };

  const bouquets = [favourites, sportBouquet, radioBouquet];
  if (captures.length > 0) {
    const capEntries = captures.map((c, i) => {
      const sid = (c.sid ?? 0x7000 + i) & 0xffff;
      const ch = channel(
        {
          ref: c.ref ?? `1:0:19:${sid.toString(16).toUpperCase()}:${(0xf00 + i).toString(16).toUpperCase()}:1:C00000:0:0:0:`,
          name: c.name ?? basename(c.file).replace(/\.[^.]+$/, ''),
          provider: 'Capture',
          profile: 'hd',
          epg: false,
        },
        [],
      );
      ch.capture = c.file;
      return entry(ch);
    });
    bouquets.push({ ref: CAPTURES_TV_REF, name: 'Captures (TV)', kind: 'tv', entries: capEntries });
  }

  const channels = new Map<string, SimChannel>();
  const allBouquets = new Map<string, SimBouquet>();
  const walk = (b: SimBouquet): void => {
    allBouquets.set(b.ref, b);
    for (const e of b.entries) {
      if (e.channel) channels.set(e.channel.ref, e.channel);
      if (e.bouquet) walk(e.bouquet);
    }
  };
  bouquets.forEach(walk);
  // The hidden entry is a real service too: zapping to it by ref works on a real box.
  channels.set(hidden.ref, hidden);
  return { bouquets, channels, allBouquets, initialRef: dasErste.ref };
}

/** Flags field of a reference (second field, decimal). */
export function refFlags(ref: string): number {
  return parseInt(ref.split(':')[1] ?? '0', 10) || 0;
}

/** Now/next events for a channel at `nowS`: index 0 = now, 1 = next, ... (empty when no EPG). */
export function channelEvents(ch: SimChannel, nowS: number, count: number): SimEvent[] {
  if (ch.programmes.length === 0) return [];
  const sid = parseServiceRef(ch.ref).sid;
  const slot = Math.floor(nowS / SIM_EPG_SLOT_S);
  const events: SimEvent[] = [];
  for (let i = 0; i < count; i++) {
    const s = slot + i;
    const prog = ch.programmes[s % ch.programmes.length];
    const begin = s * SIM_EPG_SLOT_S;
    const end = begin + SIM_EPG_SLOT_S;
    events.push({
      id: ((sid & 0xff) << 8) | (s & 0xff) || 1,
      begin_timestamp: begin,
      duration_sec: SIM_EPG_SLOT_S,
      title: prog.title,
      shortdesc: prog.shortdesc,
      longdesc: prog.longdesc,
      sref: ch.ref,
      sname: ch.name,
      now_timestamp: nowS,
      remaining: Math.max(0, end - Math.max(nowS, begin)),
      genre: prog.genre,
      genreid: prog.genreid,
    });
  }
  return events;
}

/** The placeholder OpenWebIF answers for a service without EPG. */
export function emptyEvent(ref: string, name: string): SimEvent {
  return {
    id: 0,
    begin_timestamp: 0,
    duration_sec: 0,
    title: 'N/A',
    shortdesc: '',
    longdesc: '',
    sref: ref,
    sname: name,
    now_timestamp: 0,
    remaining: 0,
    genre: '',
    genreid: 0,
  };
}
