/**
 * Every Redis key the bot uses, in one place, so the data model in the README stays true and no
 * two modules spell a key differently. A deployment-wide prefix (REDIS_KEY_PREFIX) is added by
 * the Redis client itself.
 *
 * Redis Cluster: keys that one script, transaction, pipeline or multi-key command uses together
 * carry the same hash tag (`{setpass}`, `{mail}`, `{app}`, `{sheet}`) after their fixed part, so
 * they live in one slot. test/deploy/cluster-keys.test.ts checks every such call site.
 */
export const keys = {
  setpassToken: (tokenHmac: string) => `setpass:tok:{setpass}:${tokenHmac}`,
  setpassUser: (userId: string) => `setpass:user:{setpass}:${userId}`,
  /**
   * The user's PIN as a keyed hash, so resets and resends keep the PIN; it expires one link
   * lifetime after the user's last link does, and every link issued renews it.
   */
  setpassPin: (userId: string) => `setpass:pin:{setpass}:${userId}`,
  /** When the user last set their password through a link (durable: no reminder follows it). */
  setpassDone: (userId: string) => `setpass:done:{setpass}:${userId}`,
  /**
   * The temporary password the first approval or the last reset put in Keystone, sealed, so a link
   * sent again (reminder, resend, expiry) carries the same one; gone once the user redeems it.
   */
  setpassTemporary: (userId: string) => `setpass:temp:{setpass}:${userId}`,
  /**
   * Held (SET NX PX, an owner token) while one process issues or redeems the user's link and talks
   * to Keystone about it, so issuing and redeeming never overlap.
   */
  setpassClaim: (userId: string) => `setpass:claim:{setpass}:${userId}`,
  /**
   * Set when wrong PINs burned the user's link (a hash: attempts, when); the next link issued for
   * the user clears it. Until then no reminder sends a fresh link: unlocking is an admin's call.
   */
  setpassLockedOut: (userId: string) => `setpass:locked:{setpass}:${userId}`,
  /**
   * Which user a name typed on `/forgot` belongs to: keyed by HMAC of the lower-cased user name, so
   * the page host finds the user (and the PIN on file) without admin credentials and a dump holds
   * no names. Written with every link issued; lasts as long as the PIN on file.
   */
  setpassForgotName: (nameHmac: string) => `setpass:forgot:{setpass}:${nameHmac}`,
  /** Set (one hour) when a self-service reset was asked for the user: at most one such link an hour. */
  setpassForgotSent: (userId: string) => `setpass:forgot-sent:{setpass}:${userId}`,
  /** Wrong PINs on `/forgot` while the user has no live link to count them on. */
  setpassForgotWrong: (userId: string) => `setpass:forgot-wrong:{setpass}:${userId}`,
  /** rate-limiter-flexible's own prefix; it appends `:<user id or ip>`. */
  setpassLimit: (scope: 'forgot-ip' | 'forgot-user') => `setpass:limit:${scope}`,
  /**
   * The password page's failure budget of one client address bucket or one user: a counter that
   * expires with its window (rate-limiter-flexible's layout). In the `{setpass}` slot, so one
   * script reads the address's budget with the token record.
   */
  setpassBudget: (scope: 'user' | 'ip', id: string) => `setpass:limit:{setpass}:${scope}:${id}`,
  application: (applicantId: string) => `app:{app}:${applicantId}`,
  applicationLock: (applicantId: string) => `lock:app:${applicantId}`,
  applicationIndex: () => 'app:index:{app}',
  /**
   * The applications still `pending` (a sorted set scored like the index): what the intake,
   * reminders and the overview ask for on every run, without reading every record ever made.
   */
  applicationPending: () => 'app:pending:{app}',
  /** Set once `applicationPending` holds every pending record made before it existed. */
  applicationPendingBuilt: () => 'app:pending-built:{app}',
  sheetSeen: (rowKey: string) => `sheet:seen:{sheet}:${rowKey}`,
  /** When any replica last read the applications sheet successfully (ms since the epoch). */
  sheetLastRead: () => 'sheet:last-read:{sheet}',
  /** The applications tab's header row at the last whole read (JSON): where the key columns are. */
  sheetHeader: () => 'sheet:header:{sheet}',
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
  /** A `/kaizen reset` waiting for its Reset button (user id, who asked); single use, short TTL. */
  resetConfirmation: (nonce: string) => `reset:confirm:${nonce}`,
  /** A signed Slack request already handled (SHA-256 of its signature); expires with Slack's 5-minute window. */
  slackRequestSeen: (signatureHash: string) => `slack:seen:{slack}:${signatureHash}`,
  /** One quota change request from the quota requests tab (JSON), keyed by its row key. */
  quotaRequest: (requestId: string) => `quota:req:{quota}:${requestId}`,
  quotaRequestIndex: () => 'quota:req:index:{quota}',
  /** A quota request row already taken in (SET NX), as `sheetSeen` is for applications. */
  quotaRequestSeen: (rowKey: string) => `sheet:seen:{sheet}:quota:${rowKey}`,
  /** Held while one replica posts a quota request's card. */
  quotaCardLock: (requestId: string) => `lock:quota-card:${requestId}`,
  /** A `/kaizen quota <project> <change>` waiting for its Apply button (project, values, who asked); single use, short TTL. */
  quotaConfirmation: (nonce: string) => `quota:confirm:${nonce}`,
  /** When the bot last changed a project's quota (ms since the epoch), for QUOTA_AUTO_APPROVE_AFTER. */
  quotaChangedAt: (projectId: string) => `quota:changed:${projectId}`,
  audit: () => 'audit',
  events: () => 'events',
  /** Sorted set of queued message ids, scored by when each is next due. */
  mailOutbox: () => 'mail:outbox:{mail}',
  /** One queued message (hash): its AES-GCM-sealed body, attempts, last error; deleted on delivery. */
  mailMessage: (id: string) => `mail:msg:{mail}:${id}`,
  /** Held by the replica sending this message, so two never send it at once. */
  mailLease: (id: string) => `mail:lease:{mail}:${id}`,
  /** One email per purpose (e.g. `welcome:<applicant id>`): the message id, then `delivered`. */
  mailIdempotency: (purpose: string) => `mail:once:{mail}:${purpose}`,
} as const;
