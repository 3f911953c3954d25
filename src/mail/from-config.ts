import type { Config } from '../platform/config/config.js';
import { Sealer } from '../platform/crypto/sealer.js';
import type { Logger } from '../platform/log.js';
import type { Metrics } from '../platform/metrics.js';
import type { Redis } from '../platform/redis.js';
import { MailOutbox, type OutboxOptions } from './outbox.js';
import { MailDeliveryError, type MailTransport, transportFromConfig } from './transport.js';

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
  metrics?: Pick<Metrics, 'smtpSend'>,
): MailOutbox | undefined {
  const relay = transportFromConfig(config.mail);
  if (relay === undefined) return undefined;
  const transport = metrics ? timedTransport(relay, metrics) : relay;
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

/** The relay with each send timed and counted by outcome: ok, temporary (retried) or permanent. */
export function timedTransport(relay: MailTransport, metrics: Pick<Metrics, 'smtpSend'>): MailTransport {
  return {
    async send(message) {
      const started = performance.now();
      try {
        await relay.send(message);
        metrics.smtpSend('ok', (performance.now() - started) / 1000);
      } catch (error) {
        const permanent = error instanceof MailDeliveryError && error.permanent;
        metrics.smtpSend(permanent ? 'permanent' : 'temporary', (performance.now() - started) / 1000);
        throw error;
      }
    },
    verify: () => relay.verify(),
    close: () => relay.close(),
  };
}
