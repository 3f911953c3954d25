/** Redrawing a posted card in place: the one `chat.update` both kinds of card go through. */
import type { WebClient } from '@slack/web-api';
import type { SlackMessage } from '../../views/applicant-card.js';
import type { Logger } from '../platform/log.js';

export interface PostedCard {
  channel: string;
  ts: string;
}

/** A failed update is logged, never thrown: the record is the truth, and its next change redraws the card. */
export async function updateCard(
  client: WebClient,
  log: Logger,
  card: PostedCard,
  message: SlackMessage,
  about: Record<string, string>,
): Promise<void> {
  try {
    await client.chat.update({
      channel: card.channel,
      ts: card.ts,
      text: message.text,
      blocks: message.blocks,
    });
  } catch (error) {
    log.warn({ err: error, ...about }, 'could not update a card');
  }
}
