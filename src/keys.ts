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
  jobTick: (name: string, tick: string) => `jobs:${name}:${tick}`,
  audit: () => 'audit',
  events: () => 'events',
  mailOutbox: () => 'mail:outbox',
} as const;
