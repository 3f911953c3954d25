/**
 * The Slack side of `/kaizen` (the `Surface` of commands/deps.ts): a mentioned user's email from
 * `users.info`, a card's permalink, a note in the admin channel. Each answers something usable when
 * Slack fails, because the command's own work matters more than these extras.
 */
import type { WebClient } from '@slack/web-api';
import { archiveLink, type Surface } from '../../commands/deps.js';
import type { Logger } from '../platform/log.js';

export function slackSurface(client: WebClient, adminChannel: string | undefined, log: Logger): Surface {
  return {
    async emailOfSlackUser(userId) {
      try {
        const info = await client.users.info({ user: userId });
        return info.user?.profile?.email || undefined;
      } catch (error) {
        log.warn(
          { err: error, user: userId },
          'users.info failed; the mention cannot be turned into an email',
        );
        return undefined;
      }
    },
    async cardLink(card) {
      try {
        const answer = await client.chat.getPermalink({ channel: card.channel, message_ts: card.ts });
        return answer.permalink ?? archiveLink(card);
      } catch (error) {
        log.warn({ err: error, channel: card.channel }, 'chat.getPermalink failed; linking the archive URL');
        return archiveLink(card);
      }
    },
    async tellAdmins(text) {
      if (!adminChannel) {
        log.info({ note: text }, 'admin note not posted: SLACK_ADMIN_CHANNEL is not set');
        return;
      }
      try {
        await client.chat.postMessage({ channel: adminChannel, text, unfurl_links: false });
      } catch (error) {
        log.error({ err: error, note: text }, 'could not post a note to the admin channel');
      }
    },
  };
}
