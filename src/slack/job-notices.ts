/**
 * The scheduled jobs' way into the admin channel (`AdminNotices` from src/domain/reminders/ports.ts), through
 * the Bolt app's Web API client.
 */
import type { types as slack } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { AdminNotices, NoticeBlock } from '../domain/reminders/ports.js';
import { KaizenError } from '../platform/errors.js';

export function slackJobNotices(client: WebClient, adminChannel: string | undefined): AdminNotices {
  const channel = () => {
    if (!adminChannel) {
      throw new KaizenError('config', 'SLACK_ADMIN_CHANNEL is not set, so the admins cannot be told', {
        service: 'slack',
      });
    }
    return adminChannel;
  };
  return {
    async postToAdmins(text: string, blocks?: NoticeBlock[]) {
      await client.chat.postMessage({
        channel: channel(),
        text,
        // The blocks come from views/, which builds them as Block Kit.
        ...(blocks ? { blocks: blocks as slack.KnownBlock[] } : {}),
        unfurl_links: false,
      });
    },
    async replyInThread(inChannel: string, ts: string, text: string) {
      await client.chat.postMessage({ channel: inChannel, thread_ts: ts, text, unfurl_links: false });
    },
  };
}
