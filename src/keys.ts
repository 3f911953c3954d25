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
  /** Matches every application lock, for housekeeping's SCAN (the client prefix is added by the caller). */
  applicationLockPattern: () => 'lock:app:*',
  /** Cron leader lock: the replica that sets it runs this tick of the job. */
  jobTick: (name: string, tick: string) => `jobs:${name}:${tick}`,
  /** Held (and renewed) while one replica runs the job, so a long run never overlaps the next tick's. */
  jobRunning: (name: string) => `jobs:${name}:running`,
  /** Reminders to one user with an unused link: claimed and sent counts, times (a hash, no TTL). */
  userReminders: (userId: string) => `remind:user:${userId}`,
  /** Reminders to the admins about one waiting applicant: count and last time (a hash, no TTL). */
  adminReminders: (applicantId: string) => `remind:admin:${applicantId}`,
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
