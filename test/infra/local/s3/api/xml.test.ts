/** The XML of answers and small request bodies, without a server. */
import { el, xmlEscape, xmlUnescape, xmlValues } from '#infra/local/s3/api/xml.js';

describe('S3 XML', () => {
  it('escapes the five entities and control characters, keeps tab, newline and Unicode', () => {
    expect(xmlEscape(`<a href="x">&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;');
    expect(xmlEscape('a\u0001b\u001fc')).toBe('a&#x1;b&#x1f;c');
    expect(xmlEscape('tab\tline\nü 😀')).toBe('tab\tline\nü 😀');
    // A raw carriage return reaches a client's parser as a line feed (XML's end-of-line rule).
    expect(xmlEscape('cr\rlf\n')).toBe('cr&#xd;lf\n');
  });

  it('builds elements, and nothing for an undefined value', () => {
    expect(el('Key', 'a&b')).toBe('<Key>a&amp;b</Key>');
    expect(el('Size', 0)).toBe('<Size>0</Size>');
    expect(el('IsTruncated', false)).toBe('<IsTruncated>false</IsTruncated>');
    expect(el('Marker', undefined)).toBe('');
  });

  it('reads back every value it escaped, in order', () => {
    const keys = ['plain', '../../etc/passwd', '<&>"\'', 'ctl\u0001\u001f', 'cr\rlf\n', 'ü 😀 /'];
    const body = `<Delete>${keys.map((k) => `<Object>${el('Key', k)}</Object>`).join('')}</Delete>`;
    expect(xmlValues(body, 'Key')).toEqual(keys);
    expect(xmlValues(body, 'Missing')).toEqual([]);
  });

  it('decodes decimal and hex references; an out-of-range one is dropped, not a crash', () => {
    expect(xmlUnescape('&#65;&#x42;&amp;amp;')).toBe('AB&amp;');
    expect(xmlUnescape('a&#x110000;b')).toBe('ab');
    expect(xmlUnescape('&unknown;')).toBe('&unknown;');
  });
});
