/**
 * Slack's mrkdwn as HTML, close enough to read a card as Slack shows it: *bold*, _italic_, ~strike~,
 * `code`, ```blocks```, links, user and channel mentions, dates (their fallback text) and line breaks.
 * Slack's own escapes (&amp; &lt; &gt;) are undone before the text is escaped again for HTML.
 */
import { escapeHtml } from './html.js';

/** Display names for user ids, so `<@U0ADA>` reads as `@Ada`. */
export type NameOf = (userId: string) => string | undefined;

const unslack = (text: string) =>
  text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');

/** One `<…>` construct of mrkdwn, as HTML. */
function special(inner: string, nameOf: NameOf): string {
  const [target = '', label] = splitOnce(inner, '|');
  if (target.startsWith('@')) {
    const id = target.slice(1);
    return `<span class="mention">@${escapeHtml(label ?? nameOf(id) ?? id)}</span>`;
  }
  if (target.startsWith('#')) return `<span class="mention">#${escapeHtml(label ?? target.slice(1))}</span>`;
  if (target.startsWith('!date^')) return `<time>${escapeHtml(unslack(label ?? target))}</time>`;
  if (target.startsWith('!'))
    return `<span class="mention">@${escapeHtml(target.slice(1).split('^')[0] ?? '')}</span>`;
  const href = unslack(target);
  const safe = /^(https?:|mailto:)/i.test(href) ? href : '#';
  return `<a href="${escapeHtml(safe)}" target="_blank" rel="noopener">${escapeHtml(unslack(label ?? target))}</a>`;
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

/**
 * The emoji the bot's messages use, by Slack short name, as symbols that common fonts have (a
 * machine without an emoji font would show boxes) and a colour; others stay as typed.
 */
const EMOJI: Record<string, [symbol: string, colour: string]> = {
  warning: ['⚠', '#d08c00'],
  white_check_mark: ['✔', '#2eb67d'],
  hourglass: ['⌛', '#616061'],
  hourglass_flowing_sand: ['⌛', '#616061'],
  x: ['✖', '#e01e5a'],
  white_circle: ['○', '#616061'],
  tada: ['★', '#ecb22e'],
  red_circle: ['●', '#e01e5a'],
  raised_hand: ['✋', '#d08c00'],
  no_entry_sign: ['⊘', '#e01e5a'],
  no_entry: ['⊘', '#e01e5a'],
  large_green_circle: ['●', '#2eb67d'],
};

function emoji(whole: string, name: string): string {
  const found = EMOJI[name];
  return found ? `<span class="emoji" style="color:${found[1]}" title="${whole}">${found[0]}</span>` : whole;
}

/** Bold, italic, strike, emoji and quotes on text that is already HTML-escaped. */
function emphasis(text: string): string {
  return text
    .replace(/:([a-z0-9_+-]+):/g, emoji)
    .replace(/(^|\n)&gt; ?([^\n]*)/g, '$1<q>$2</q>')
    .replace(/(^|[^\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])/g, '$1<strong>$2</strong>')
    .replace(/(^|[^\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])/g, '$1<em>$2</em>')
    .replace(/(^|[^\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])/g, '$1<s>$2</s>');
}

export function mrkdwnToHtml(text: string, nameOf: NameOf = () => undefined): string {
  // Links and mentions become placeholders first, so emphasis around them still pairs up.
  const specials: string[] = [];
  const marked = text.replace(/<([^<>\n]+)>/g, (_, inner: string) => {
    specials.push(special(inner, nameOf));
    return `\uE000${specials.length - 1}\uE000`;
  });
  const pieces = marked.split(/(```[\s\S]*?```|`[^`\n]+`)/g);
  const html = pieces
    .map((piece, index) => {
      if (index % 2 === 1) {
        const block = piece.startsWith('```');
        const inner = escapeHtml(unslack(piece.slice(block ? 3 : 1, block ? -3 : -1)));
        return block ? `<pre>${inner}</pre>` : `<code>${inner}</code>`;
      }
      return emphasis(escapeHtml(unslack(piece)));
    })
    .join('')
    .replaceAll('\n', '<br>');
  return html.replace(/\uE000(\d+)\uE000/g, (_, index: string) => specials[Number(index)] ?? '');
}

/** A text object (`plain_text` or `mrkdwn`) as HTML. */
export function textObjectToHtml(value: unknown, nameOf: NameOf = () => undefined): string {
  if (typeof value !== 'object' || value === null) return '';
  const { type, text } = value as { type?: unknown; text?: unknown };
  if (typeof text !== 'string') return '';
  return type === 'mrkdwn' ? mrkdwnToHtml(text, nameOf) : escapeHtml(text).replaceAll('\n', '<br>');
}
