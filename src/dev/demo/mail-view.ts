/**
 * One email as a mail client shows it: From, To, Subject and date above the message's HTML. The
 * HTML sits in a sandboxed frame (no script runs); its links open in the whole window, so the
 * password link leads to the real password page.
 */
import { escapeHtml } from './html.js';

export interface MailToShow {
  from: string;
  to: string[];
  subject: string;
  at: Date;
  html: string | undefined;
  text: string;
}

/** The frame's content: the message's HTML with links aimed at the whole window. */
function frameDocument(mail: MailToShow): string {
  const body =
    mail.html ??
    `<!doctype html><meta charset="utf-8"><pre style="white-space:pre-wrap">${escapeHtml(mail.text)}</pre>`;
  const base = '<base target="_top">';
  return /<head[^>]*>/i.test(body)
    ? body.replace(/<head[^>]*>/i, (head) => `${head}${base}`)
    : `${base}${body}`;
}

export function mailPage(mail: MailToShow): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(mail.subject)} · Kaizen demo mailbox</title>
<style>body{margin:0;font:14px/1.45 system-ui,sans-serif;background:#f4f4f6;color:#1d1c1d}
.headers{background:#fff;border-bottom:1px solid #ddd;padding:12px 20px}.headers h1{font-size:18px;margin:0 0 6px}
.headers dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:0}.headers dt{color:#616061}.headers dd{margin:0}
.back{float:right;font-size:13px}iframe{display:block;width:100%;height:calc(100vh - 130px);border:0;background:#fff}</style></head>
<body><header class="headers"><a class="back" href="/">← Back to the demo</a><h1>${escapeHtml(mail.subject)}</h1>
<dl><dt>From</dt><dd>${escapeHtml(mail.from)}</dd><dt>To</dt><dd>${escapeHtml(mail.to.join(', '))}</dd>
<dt>Date</dt><dd>${escapeHtml(mail.at.toUTCString())}</dd></dl></header>
<iframe title="The message" sandbox="allow-top-navigation-by-user-activation allow-popups" srcdoc="${escapeHtml(frameDocument(mail))}"></iframe>
</body></html>`;
}
