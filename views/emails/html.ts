/** Small pieces shared by the email templates: escaping, one plain HTML layout, and wording of durations. */

export interface Email {
  subject: string;
  text: string;
  html: string;
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Every value that goes into an HTML email goes through here, attributes included. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ENTITIES[char] ?? char);
}

/** A subject is one header line: line breaks in a value (a project name, say) become spaces. */
export function oneLine(value: string): string {
  return value.replace(/[\r\n]+/g, ' ').trim();
}

export function link(url: string, label: string = url): string {
  return `<a href="${escapeHtml(url)}">${escapeHtml(label)}</a>`;
}

/** Paragraphs already escaped, in a minimal document that mail clients render alike. */
export function layout(title: string, paragraphs: string[]): string {
  return [
    '<!doctype html>',
    '<html><head><meta charset="utf-8"><title>',
    escapeHtml(title),
    '</title></head><body style="font-family: sans-serif; line-height: 1.5; max-width: 40em">',
    ...paragraphs.map((p) => `<p>${p}</p>`),
    '</body></html>',
  ].join('\n');
}

/** `7 days`, `1 day`, `36 hours`, `90 minutes`: the largest unit that divides the duration evenly. */
export function describeLifetime(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
  ];
  for (const [size, name] of units) {
    if (ms >= size && ms % size === 0) {
      const count = ms / size;
      return `${count} ${name}${count === 1 ? '' : 's'}`;
    }
  }
  const minutes = Math.max(1, Math.round(ms / 60_000));
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/** Where to go next and whom to ask, as optional lines for both the text and the HTML part. */
export interface Signposts {
  loginUrl?: string | undefined;
  gettingStartedUrl?: string | undefined;
  supportEmail?: string | undefined;
  /** The password page's `/forgot`, for a password forgotten later. */
  forgotUrl?: string | undefined;
}

export function signpostLines(s: Signposts): { text: string[]; html: string[] } {
  const text: string[] = [];
  const html: string[] = [];
  if (s.loginUrl) {
    text.push(`Log in at ${s.loginUrl}`);
    html.push(`Log in at ${link(s.loginUrl)}`);
  }
  if (s.gettingStartedUrl) {
    text.push(`New here? Start with ${s.gettingStartedUrl}`);
    html.push(`New here? Start with ${link(s.gettingStartedUrl)}`);
  }
  if (s.forgotUrl) {
    text.push(`Forgot your password later? Ask for a new link with your PIN at ${s.forgotUrl}`);
    html.push(`Forgot your password later? Ask for a new link with your PIN at ${link(s.forgotUrl)}`);
  }
  if (s.supportEmail) {
    text.push(`Questions? Write to ${s.supportEmail}`);
    html.push(`Questions? Write to ${link(`mailto:${s.supportEmail}`, s.supportEmail)}`);
  }
  return { text, html };
}
