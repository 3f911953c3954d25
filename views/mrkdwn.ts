/**
 * Text from outside (a sheet, a form) shown in Slack mrkdwn: escaped so `<!channel>` or
 * `<https://evil|x>` is shown as typed and never runs, and cut to Block Kit's limits, measured
 * after escaping because `<` becomes four characters.
 */

/** Slack's three control characters; everything else in mrkdwn only formats. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const escapedLength = (char: string) => (char === '&' ? 5 : char === '<' || char === '>' ? 4 : 1);

/**
 * Escapes `text` and, when the result is longer than `max`, cuts the text at a word boundary
 * (when one is near) and ends it with "…", so the escaped result fits in `max`.
 */
export function escapeAndClip(text: string, max: number): string {
  const escaped = escapeMrkdwn(text);
  if (escaped.length <= max) return escaped;
  const budget = max - 1;
  let used = 0;
  let end = 0;
  for (const char of text) {
    const size = escapedLength(char) * char.length;
    if (used + size > budget) break;
    used += size;
    end += char.length;
  }
  return `${escapeMrkdwn(cutAtWordBoundary(text.slice(0, end)))}…`;
}

/** Plain text (header blocks, modal titles, notification text) cut to `max` with "…". */
export function clipPlain(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${cutAtWordBoundary(text.slice(0, max - 1))}…`;
}

/** Drops a partly cut last word when a space is not too far back; keeps the cut otherwise. */
function cutAtWordBoundary(prefix: string): string {
  const space = prefix.search(/\s\S*$/);
  return (space > prefix.length * 0.6 ? prefix.slice(0, space) : prefix).trimEnd();
}

/** A time Slack shows in each reader's own time zone, with the ISO text as fallback. */
export function slackDate(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return escapeMrkdwn(iso);
  const seconds = Math.floor(ms / 1000);
  const fallback = new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/:\d\d\.\d+Z$/, ' UTC');
  return `<!date^${seconds}^{date_short_pretty} at {time}|${fallback}>`;
}

/** A user mention; the id is checked so nothing else can be smuggled in as `<@…>`. */
export function mention(userId: string): string {
  return /^[UW][A-Z0-9]+$/.test(userId) ? `<@${userId}>` : escapeMrkdwn(userId);
}
