/**
 * Every Redis key the bot uses, in one place, so the data model in the README stays true and no
 * two modules spell a key differently. A deployment-wide prefix (REDIS_KEY_PREFIX) is added by
 * the Redis client itself.
 */
export const keys = {
  setpassToken: (tokenHmac: string) => `setpass:tok:${tokenHmac}`,
  setpassUser: (userId: string) => `setpass:user:${userId}`,
  application: (applicantId: string) => `app:${applicantId}`,
  applicationLock: (applicantId: string) => `lock:app:${applicantId}`,
  applicationIndex: () => 'app:index',
  sheetSeen: (rowKey: string) => `sheet:seen:${rowKey}`,
  /** A notice about the sheet (a bad row as it reads now, missing headers) already posted; with a TTL. */
  sheetNotice: (fingerprint: string) => `sheet:notice:${fingerprint}`,
  /** Held while one replica posts an applicant's card, so a retried post never makes a second card. */
  cardLock: (applicantId: string) => `lock:card:${applicantId}`,
  jobTick: (name: string, tick: string) => `jobs:${name}:${tick}`,
  audit: () => 'audit',
  events: () => 'events',
  /** Sorted set of queued message ids, scored by when each is next due. */
  mailOutbox: () => 'mail:outbox',
  /** One queued message (hash): its AES-GCM-sealed body, attempts, last error; deleted on delivery. */
  mailMessage: (id: string) => `mail:msg:${id}`,
  /** Held by the replica sending this message, so two never send it at once. */
  mailLease: (id: string) => `mail:lease:${id}`,
  /** One email per purpose (e.g. `welcome:<applicant id>`): the message id, then `delivered`. */
  mailIdempotency: (purpose: string) => `mail:once:${purpose}`,
} as const;
