/**
 * What the applicant card's listeners (buttons and modals) work with, and the small replies they
 * share: an ephemeral line to the admin who clicked, and the refusal for someone who is not one.
 */
import type { WebClient } from '@slack/web-api';
import type { DecisionDeps, ProvisionDeps } from '../domain/provision/deps.js';
import type { InFlight } from '../platform/inflight.js';
import type { Logger } from '../platform/log.js';
import type { RequestsFirst } from '../platform/requests-first.js';
import type { Slots } from '../platform/slots.js';
import type { AdminDirectory } from './admins.js';
import type { CardDeps } from './applicant-cards.js';

export interface ApplicantSlackDeps {
  admins: Pick<AdminDirectory, 'isAdmin'>;
  adminChannel: string | undefined;
  cards: CardDeps;
  /** Undefined when Keystone (or what provisioning needs) is off: Approve says so. */
  provision: ProvisionDeps | undefined;
  /** Rejecting and choosing a quota. */
  decisions: DecisionDeps | undefined;
  inflight: InFlight;
  /**
   * Bounds the first redraws ("approving by …") that clicks start: a burst of clicks redraws its
   * cards a few at a time instead of all at once, so answering the clicks keeps the CPU and
   * Slack's rate limit on chat.update is not hit by a burst. Absent: unbounded.
   */
  firstRedraws?: Slots;
  /** The work a click starts waits until no Slack request is being answered (bounded); absent: no wait. */
  requestsFirst?: Pick<RequestsFirst, 'idle'>;
  log: Logger;
}

/** Whether `user` is an admin; undefined when that cannot be told right now (Slack did not answer). */
export async function adminCheck(
  deps: Pick<ApplicantSlackDeps, 'admins' | 'log'>,
  user: string,
): Promise<boolean | undefined> {
  try {
    return await deps.admins.isAdmin(user);
  } catch (error) {
    deps.log.error({ err: error, user }, 'could not check whether the user is an admin');
    return undefined;
  }
}

/** A reply only the clicking admin sees. Never throws: a lost reply must not undo the work. */
export async function tellUser(
  client: WebClient,
  log: Logger,
  where: { channel: string | undefined; user: string },
  text: string,
): Promise<void> {
  if (!where.channel) return;
  try {
    await client.chat.postEphemeral({ channel: where.channel, user: where.user, text });
  } catch (error) {
    log.warn({ err: error, user: where.user }, 'could not send an ephemeral reply');
  }
}
