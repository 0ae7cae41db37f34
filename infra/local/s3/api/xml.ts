/**
 * The XML of S3's REST API: escaping and element building for answers, and reading the values of
 * the few small request bodies the server accepts (batch delete, complete multipart upload).
 */

export const XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n';
/** The namespace of every S3 answer's root element. */
export const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** XML text: the five entities, and control characters as character references (as S3 does). */
// eslint-disable-next-line no-control-regex -- control characters are what this escapes
const XML_SPECIAL = /[&<>"'\u0000-\u0008\u000b\u000c\u000e-\u001f]/g;

export function xmlEscape(s: string): string {
  return s.replace(XML_SPECIAL, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case "'":
        return '&apos;';
      default:
        return `&#x${c.charCodeAt(0).toString(16)};`;
    }
  });
}

/** `<name>value</name>` with the value escaped; nothing at all for an undefined value. */
export const el = (name: string, value: string | number | boolean | undefined): string =>
  value === undefined ? '' : `<${name}>${xmlEscape(String(value))}</${name}>`;

/** The fixed owner of everything in local mode (it has no accounts). */
export const LOCAL_OWNER = '<Owner><ID>local</ID><DisplayName>local</DisplayName></Owner>';

/** Values of `<name>…</name>` in a (trusted-shape, untrusted-content) XML body. */
export function xmlValues(body: string, name: string): string[] {
  const out: string[] = [];
  const re = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, 'g');
  for (let m = re.exec(body); m; m = re.exec(body)) out.push(xmlUnescape(m[1]));
  return out;
}

export function xmlUnescape(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, e: string) => {
    switch (e) {
      case 'amp':
        return '&';
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      default: {
        const n = e.startsWith('#x') ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return n <= 0x10ffff ? String.fromCodePoint(n) : '';
      }
    }
  });
}

const XML_DECLARATION = /^\uFEFF?<\?xml\s[^?]*\?>/;
const NAME = '[A-Za-z_][\\w.:-]*';
const TAG = new RegExp(
  `<(/?)(${NAME})((?:\\s+${NAME}\\s*=\\s*(?:"[^"<]*"|'[^'<]*'))*)\\s*(/?)>|<!--[\\s\\S]*?-->`,
  'y',
);
const TEXT = /[^<]*/y;
const BAD_ENTITY = /&(?!(?:#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);)/;

/**
 * The name of the root element of a well-formed XML document (one root, tags nested and closed,
 * attributes quoted, only XML's entities), or undefined for anything else. Enough to refuse a
 * malformed request body as S3 does (MalformedXML) before acting on any of it.
 */
export function wellFormedRoot(body: string): string | undefined {
  let at = XML_DECLARATION.exec(body)?.[0].length ?? 0;
  const open: string[] = [];
  let root: string | undefined;
  let closed = false;
  while (at < body.length) {
    TEXT.lastIndex = at;
    const text = TEXT.exec(body)![0];
    // Text outside the root may only be white space.
    if (text && ((open.length === 0 && text.trim()) || BAD_ENTITY.test(text))) return undefined;
    at += text.length;
    if (at >= body.length) break;
    TAG.lastIndex = at;
    const m = TAG.exec(body);
    if (!m) return undefined;
    at += m[0].length;
    if (m[0].startsWith('<!--')) continue;
    const [, end, name, , selfClosing] = m;
    if (end) {
      if (selfClosing || open.pop() !== name) return undefined;
      if (open.length === 0) closed = true;
      continue;
    }
    if (open.length === 0) {
      if (root !== undefined) return undefined; // a second root
      root = name;
    }
    if (selfClosing) {
      if (open.length === 0) closed = true;
    } else open.push(name);
  }
  return closed && open.length === 0 ? root : undefined;
}
