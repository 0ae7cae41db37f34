/**
 * The XML of S3's REST API: escaping and element building for answers, and reading the values of
 * the few small request bodies the server accepts (batch delete, complete multipart upload).
 */

export const XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n';
/** The namespace of every S3 answer's root element. */
export const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** XML text: the five entities, and control characters as character references (as S3 does; a raw
 * carriage return would reach the client as a line feed, XML's end-of-line rule, naming another key). */
// eslint-disable-next-line no-control-regex -- control characters are what this escapes
const XML_SPECIAL = /[&<>"'\u0000-\u0008\u000b-\u001f]/g;

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

/** Values of every `<name>` element in a well-formed XML document, in document order (comments
 * skipped); none in anything else. */
export function xmlValues(body: string, name: string): string[] {
  const out: string[] = [];
  // parseXml admits 32 levels at most: recursion is safe.
  const visit = (e: XmlElement) => {
    if (e.name === name) out.push(e.text);
    e.children.forEach(visit);
  };
  const root = parseXml(body);
  if (root) visit(root);
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

const MAX_DEPTH = 32;

/** An element of a parsed request body: its name, its child elements, and its own text (the text
 * directly inside it, entities decoded). */
export interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

/**
 * A well-formed XML document (one root, tags nested and closed, at most 32 deep, attributes quoted,
 * only XML's entities; comments skipped) as a tree, or undefined for anything else. One pass over the body,
 * each character looked at a bounded number of times: request bodies are untrusted, and a pattern
 * searched again from every opening tag (`<Part>…</Part>` over `<Part>`s hidden in a comment) takes
 * time quadratic in the body's length, during which the server answers nobody.
 */
export function parseXml(body: string): XmlElement | undefined {
  let at = XML_DECLARATION.exec(body)?.[0].length ?? 0;
  const open: XmlElement[] = [];
  let root: XmlElement | undefined;
  let closed = false;
  while (at < body.length) {
    TEXT.lastIndex = at;
    const text = TEXT.exec(body)![0];
    // Text outside the root may only be white space.
    if (text && ((open.length === 0 && text.trim()) || BAD_ENTITY.test(text))) return undefined;
    if (text && open.length > 0) open[open.length - 1].text += xmlUnescape(text);
    at += text.length;
    if (at >= body.length) break;
    TAG.lastIndex = at;
    const m = TAG.exec(body);
    if (!m) return undefined;
    at += m[0].length;
    if (m[0].startsWith('<!--')) continue;
    const [, end, name, , selfClosing] = m;
    if (end) {
      if (selfClosing || open.pop()?.name !== name) return undefined;
      if (open.length === 0) closed = true;
      continue;
    }
    // S3's request documents nest three deep; a body nested past this is not one of them.
    if (open.length >= MAX_DEPTH) return undefined;
    const element: XmlElement = { name, children: [], text: '' };
    if (open.length === 0) {
      if (root !== undefined) return undefined; // a second root
      root = element;
    } else open[open.length - 1].children.push(element);
    if (selfClosing) {
      if (open.length === 0) closed = true;
    } else open.push(element);
  }
  return closed && open.length === 0 ? root : undefined;
}

/** The text of `element`'s first child named `name`. */
export const childText = (element: XmlElement, name: string): string | undefined =>
  element.children.find((c) => c.name === name)?.text;
