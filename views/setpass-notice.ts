/**
 * What the admin channel reads about the password page: a lockout (with the command that sends a
 * new link), a completed password change, or a link that no longer matches the account. Plain mrkdwn text; the user name is escaped.
 */
import type { SetpassEvent } from '../src/domain/setpass/events.js';
import { escapeMrkdwn } from './mrkdwn.js';

export function setpassNoticeText(event: SetpassEvent): string {
  const user = escapeMrkdwn(event.username);
  if (event.type === 'lockout') {
    const pins = `${event.attempts} wrong ${event.attempts === 1 ? 'PIN' : 'PINs'}`;
    return `🔒 ${user} was locked out of their password link after ${pins}; use /kaizen reset ${user} to send a new one`;
  }
  if (event.type === 'account_changed') {
    return `⚠️ ${user} opened their password link, but its temporary password no longer works: their password was changed after the link was sent (by them or an operator). Nothing was changed and the link was withdrawn; if they need one, use /kaizen reset ${user}`;
  }
  if (event.type === 'forgot_requested') return `🔑 self-service reset by ${user}`;
  return `✅ ${user} set their password`;
}
