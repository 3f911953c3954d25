import type { Config } from '../config.js';
import { Sealer } from '../crypto/sealer.js';
import type { Logger } from '../log.js';
import type { Redis } from '../redis.js';
import { MailOutbox, type OutboxOptions } from './outbox.js';
import { transportFromConfig } from './transport.js';

export const OUTBOX_SEAL_PURPOSE = 'kaizen mail outbox';

/**
 * The outbox for these settings, or undefined when mail is off (SMTP_URL or MAIL_FROM missing).
 * Queued bodies are sealed with a key from SETPASS_SECRET; without one (no setpass, so no links in
 * any email) the key lives in this process only, and mail still queued at a restart is dropped.
 */
export function outboxFromConfig(
  config: Config,
  redis: Redis,
  log: Logger,
  options: OutboxOptions = {},
): MailOutbox | undefined {
  const transport = transportFromConfig(config.mail);
  if (transport === undefined) return undefined;
  const secret = config.setpass.secret;
  if (secret === undefined) {
    log.info(
      'mail: SETPASS_SECRET is not set, so mail still queued at a restart cannot be read and is dropped',
    );
  }
  const sealer =
    secret === undefined ? Sealer.ephemeral(OUTBOX_SEAL_PURPOSE) : new Sealer(secret, OUTBOX_SEAL_PURPOSE);
  return new MailOutbox(redis, transport, sealer, log, options);
}
