/**
 * manifest.yml with this deployment's URLs in place of the example's: Slack's three URLs are the
 * bot's `/slack/events` (on one host that is PUBLIC_URL's host; with two hosts, the bot host's),
 * or none at all in Socket Mode. Comments stay, so the result reads like the file.
 */
import { readFileSync } from 'node:fs';
import { isMap, isSeq, parseDocument } from 'yaml';
import { KaizenError } from '../platform/errors.js';

export type SlackMode = { kind: 'http'; botUrl: string } | { kind: 'socket' };

/** manifest.yml from the package root, whether this runs from src/ops/ or dist/src/ops/. */
function manifestText(): string {
  for (const path of ['../../manifest.yml', '../../../manifest.yml']) {
    try {
      return readFileSync(new URL(path, import.meta.url), 'utf8');
    } catch {
      // not at this level
    }
  }
  throw new KaizenError('config', 'manifest.yml is missing from this installation');
}

/** Slack calls only https:// request URLs; the base is where the bot's /slack/events is served. */
export function botBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new KaizenError(
      'invalid',
      `"${raw}" is not a URL; give the bot's base URL such as https://kaizen-bot.example.org`,
    );
  }
  if (url.protocol !== 'https:') {
    throw new KaizenError(
      'invalid',
      `Slack sends requests only to https:// URLs, not ${url.protocol}//; use Socket Mode without a public HTTPS URL`,
    );
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new KaizenError(
      'invalid',
      'the bot URL is a plain https:// base URL, without a user, query or fragment',
    );
  }
  return url.toString().replace(/\/+$/, '');
}

export function renderManifest(mode: SlackMode, source = manifestText()): string {
  // The file's header tells a reader to replace the URLs by hand; a filled-in one says what it is for.
  const doc = parseDocument(source.replace(/^(#[^\n]*\n)+/, ''));
  const events = mode.kind === 'http' ? `${botBaseUrl(mode.botUrl)}/slack/events` : undefined;
  const commands = doc.getIn(['features', 'slash_commands']);
  if (isSeq(commands)) {
    for (const command of commands.items) {
      if (!isMap(command)) continue;
      if (events) command.set('url', events);
      else command.delete('url');
    }
  }
  for (const path of [
    ['settings', 'event_subscriptions', 'request_url'],
    ['settings', 'interactivity', 'request_url'],
  ]) {
    if (events) doc.setIn(path, events);
    else doc.deleteIn(path);
  }
  doc.setIn(['settings', 'socket_mode_enabled'], mode.kind === 'socket');
  doc.commentBefore =
    mode.kind === 'http'
      ? ` Slack app manifest for Kaizen Registration, for the bot at ${botBaseUrl(mode.botUrl)}.\n Paste at https://api.slack.com/apps → Create New App → From an app manifest.`
      : ' Slack app manifest for Kaizen Registration, in Socket Mode (no request URLs).\n Paste at https://api.slack.com/apps → Create New App → From an app manifest, then create an\n app-level token with connections:write for SLACK_APP_TOKEN.';
  return doc.toString();
}
