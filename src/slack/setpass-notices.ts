/**
 * Tells the admin channel about password-page events (lockouts, completed changes) read from the
 * event stream: the Slack half of the handler the composition root gives the event consumer.
 */
import type { WebClient } from '@slack/web-api';
import { setpassNoticeText } from '../../views/setpass-notice.js';
import type { SetpassEvent } from '../domain/setpass/events.js';

export function setpassNoticePoster(client: WebClient, adminChannel: string) {
  return async (event: SetpassEvent): Promise<void> => {
    await client.chat.postMessage({
      channel: adminChannel,
      text: setpassNoticeText(event),
      unfurl_links: false,
    });
  };
}
