/**
 * Text from users (object keys, gallery names, error reasons) made safe to print on one line:
 * control characters, terminal escape sequences and the characters that reorder or break lines
 * are written as visible escapes, so a key holding a newline and `ESC[32m` cannot forge a line
 * (or colour one) in a terminal, a table or a one-name-a-line text file. Everything else,
 * accents and emoji included, is left as it is. Pure.
 *
 * Escaped: C0 controls and DEL (`\n`, `\r`, `\t` by name, others as `\x1b`), C1 controls
 * (U+0080-U+009F: 8-bit CSI is U+009B), the line and paragraph separators (U+2028, U+2029,
 * U+0085), the bidirectional controls that make text display in another order than it is stored
 * (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) and the byte-order mark (U+FEFF).
 * Backslashes are kept: a name never needs to be parsed back from this form.
 */

// eslint-disable-next-line no-control-regex -- control characters are what this escapes
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escape(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` with every unsafe character written as a visible escape (see the top of this file). */
export function printable(text: string): string {
  return text.replace(UNSAFE, escape);
}
