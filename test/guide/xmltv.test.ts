// The XMLTV builder: escaping, hostile names, XMLTV's time format, what is left out, and a document
// tv_validate_file accepts.
import type { GuideChannel, GuideProgramme } from '../../src/receiver/guide';
import { buildXmltv, xmlEscape, xmltvTime } from '../../src/stream/xmltv';
import { tvValidate } from './validate';

const T0 = Date.UTC(2024, 0, 31, 19, 30, 0);
const SLOT = 30 * 60_000;

function programme(i: number, patch: Partial<GuideProgramme> = {}): GuideProgramme {
  return { begin: T0 + i * SLOT, end: T0 + (i + 1) * SLOT, title: `Show ${i}`, description: `About show ${i}.`, genre: 'News', ...patch };
}

function channel(id: string, name: string, programmes: GuideProgramme[], ref = '1:0:19:283D:3FB:1:C00000:0:0:0:'): GuideChannel {
  return { id, name, ref, programmes };
}

const options = { baseUrl: 'http://proxy:18000', query: '' };
const count = (xml: string, pattern: RegExp): number => (xml.match(pattern) ?? []).length;

describe('buildXmltv', () => {
  test('times are UTC in XMLTV format, with the zone', () => {
    expect(xmltvTime(T0)).toBe('20240131193000 +0000');
    expect(xmltvTime(Date.UTC(2024, 11, 31, 23, 59, 59))).toBe('20241231235959 +0000');
    // Whatever the process's zone: an hour past midnight in Berlin is still the day before in UTC.
    expect(xmltvTime(new Date('2024-07-01T00:30:00+02:00').getTime())).toBe('20240630223000 +0000');
  });

  test('channels, icons and programmes with title, description and category', () => {
    const ref = '4097:0:1:0:0:0:0:0:0:0:http%3a//iptv.example.net/live/x.m3u8:X';
    const xml = buildXmltv([channel('283d_3fb_1_c00000', 'Das Erste HD', [programme(0), programme(1, { genre: '' })], ref)], { baseUrl: 'http://proxy:18000', query: '?token=a&b' });
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).toBe(true);
    expect(xml).toContain('<tv generator-info-name="xg2g">');
    expect(xml).toContain('<channel id="283d-3fb-1-c00000.xg2g">');
    expect(xml).toContain('<display-name>Das Erste HD</display-name>');
    // The whole reference is encoded (its `%3a` too), and the token query is escaped for XML.
    expect(xml).toContain(`<icon src="http://proxy:18000/picon/${encodeURIComponent(ref)}.png?token=a&amp;b"/>`);
    expect(xml).toContain('<programme start="20240131193000 +0000" stop="20240131200000 +0000" channel="283d-3fb-1-c00000.xg2g">');
    expect(xml).toContain('<title>Show 0</title>');
    expect(xml).toContain('<desc>About show 0.</desc>');
    expect(count(xml, /<category>News<\/category>/g)).toBe(1);
    // Channels come before programmes (the DTD's order).
    expect(xml.lastIndexOf('<channel ')).toBeLessThan(xml.indexOf('<programme '));
  });

  test('a hostile channel name makes exactly one channel element', () => {
    const hostile = 'Evil",\n#EXTINF:-1,x';
    const xml = buildXmltv([channel('evil', hostile, [programme(0)]), channel('good', 'Good', [programme(0)])], options);
    expect(count(xml, /<channel /g)).toBe(2);
    expect(count(xml, /<display-name>/g)).toBe(2);
    expect(xml).toContain('<display-name>Evil&quot;, #EXTINF:-1,x</display-name>');
    expect(xml).not.toMatch(/^#EXTINF/m);
  });

  test('markup, entities and characters XML forbids cannot break the document', () => {
    const title = 'Tatort: Borowski & die <Angst> "live" \'24\u0000\u0007\u001b\u0085\ufffe\ud800';
    const xml = buildXmltv([channel('a', 'A & B <C>', [programme(0, { title, description: 'x</desc><title>injected</title>', genre: 'Krimi & Co' })])], options);
    expect(xml).toContain('<display-name>A &amp; B &lt;C&gt;</display-name>');
    expect(xml).toContain('<title>Tatort: Borowski &amp; die &lt;Angst&gt; &quot;live&quot; &apos;24</title>');
    expect(xml).toContain('<desc>x&lt;/desc&gt;&lt;title&gt;injected&lt;/title&gt;</desc>');
    expect(xml).toContain('<category>Krimi &amp; Co</category>');
    expect(count(xml, /<title>/g)).toBe(1);
    // eslint-disable-next-line no-control-regex
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ufffe\uffff]/);
    expect(xml).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
    // Characters outside the BMP are fine in XML and stay.
    expect(xmlEscape('Musik 🎵')).toBe('Musik 🎵');
  });

  test('empty descriptions and categories are left out; ended programmes, untitled ones and empty channels too', () => {
    const xml = buildXmltv(
      [
        channel('a', 'A', [programme(0, { description: '  ', genre: '' }), programme(1, { title: ' \n ' }), programme(2)]),
        channel('empty', 'No EPG', []),
        channel('a', 'A again', [programme(5)]),
      ],
      { ...options, since: T0 + SLOT },
    );
    expect(count(xml, /<channel /g)).toBe(1);
    expect(xml).not.toContain('No EPG');
    expect(xml).not.toContain('A again');
    expect(count(xml, /<programme /g)).toBe(1);
    expect(xml).toContain('<title>Show 2</title>');
    expect(xml).not.toContain('<desc></desc>');
    expect(xml).not.toContain('<category></category>');
  });

  test('descriptions keep their line breaks, names and titles become one line', () => {
    const xml = buildXmltv([channel('a', 'Two\r\nLines', [programme(0, { title: 'A\nB', description: 'One.\r\nTwo.' })])], options);
    expect(xml).toContain('<display-name>Two Lines</display-name>');
    expect(xml).toContain('<title>A B</title>');
    expect(xml).toContain('<desc>One.\nTwo.</desc>');
  });

  test('tv_validate_file accepts the document (ids in the RFC 2838 style its own check wants)', async () => {
    const xml = buildXmltv(
      [
        channel('das-erste.de', 'Das Erste HD', [programme(0, { title: 'Tatort & <Co>' }), programme(1, { description: '' })]),
        channel('arte.de', 'arte "HD" & Co\u0086', [programme(0, { genre: '' }), programme(1)], '1:0:19:283E:3FB:1:C00000:0:0:0:'),
      ],
      { baseUrl: 'http://127.0.0.1:18000', query: '?token=t&x=1' },
    );
    const result = await tvValidate(xml);
    expect(result.output).toContain('Validated ok.');
    expect(result.code).toBe(0);
  });
});
