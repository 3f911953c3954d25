/**
 * What the admin channel reads about the password page: a lockout (with the command that sends a
 * new link) or a completed password change. Plain mrkdwn text; the user name is escaped.
 */
import type { SetpassEvent } from '../src/setpass/events.js';
import { escapeMrkdwn } from './mrkdwn.js';

export function setpassNoticeText(event: SetpassEvent): string {
  const user = escapeMrkdwn(event.username);
  if (event.type === 'lockout') {
    const pins = `${event.attempts} wrong ${event.attempts === 1 ? 'PIN' : 'PINs'}`;
    return `🔒 ${user} was locked out of their password link after ${pins}; use /kaizen reset ${user} to send a new one`;
  }
  return `✅ ${user} set their password`;
}
