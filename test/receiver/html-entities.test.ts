// HTML entity decoding of OpenWebIF EPG strings.
import { decodeHtmlEntities } from '../../src/receiver/html-entities';

describe('decodeHtmlEntities', () => {
  it.each([
    ['Tatort: Borowski &amp; die Angst', 'Tatort: Borowski & die Angst'],
    ['Arztserie &lt;Staffel 17&gt;', 'Arztserie <Staffel 17>'],
    ['Talk mit &quot;prominenten&quot; G&#228;sten', 'Talk mit "prominenten" Gästen'],
    ['Sport1 News &#39;Kompakt&#39; &apos;x&apos;', "Sport1 News 'Kompakt' 'x'"],
    ['&#x41;&#X42;&#x1F4FA;', 'AB📺'],
    ['non&nbsp;breaking', 'non\u00a0breaking'],
    ['&AMP;', '&'],
  ])('decodes %s', (input, expected) => {
    expect(decodeHtmlEntities(input)).toBe(expected);
  });

  it('decodes in one pass, so escaped entities stay entities', () => {
    expect(decodeHtmlEntities('&amp;lt;b&amp;gt;')).toBe('&lt;b&gt;');
  });

  it.each([
    ['a bare ampersand', 'Fix & Foxi'],
    ['an unknown name', '&copy2; &bogus;'],
    ['no semicolon', '&amp &#65'],
    ['NUL', '&#0;'],
    ['a surrogate', '&#xD800;'],
    ['past Unicode', '&#x110000;'],
  ])('leaves %s as it is', (_label, input) => {
    expect(decodeHtmlEntities(input)).toBe(input);
  });
});
