/**
 * Which jobs this bot schedules, and with what: the composition of the reminder and housekeeping jobs with the texts from
 * views/ and the parts the rest of the bot provides (Slack notices, the outbox, the setpass side,
 * the sheet poll). A job whose parts are switched off is not scheduled; one log line says why.
 */
import { reminderEmail } from '../../views/emails/reminder.js';
import { adminDigest, passwordNeverSetNotice, stillWaitingReply } from '../../views/reminders.js';
import { AccountGuard, protectionPolicy } from '../domain/accounts/protection.js';
import { ApplicationStore } from '../domain/applications/store.js';
import { remindAdmins } from '../domain/reminders/admin-reminders.js';
import type { AdminNotices, ReminderLinks, ReminderOutbox } from '../domain/reminders/ports.js';
import {
  type ReminderEmailInput,
  remindUsers,
  type UserReminderTexts,
} from '../domain/reminders/user-reminders.js';
import { forgotPageUrl } from '../domain/setpass/paths.js';
import type { Config } from '../platform/config/config.js';
import { keepHouse } from '../platform/jobs/housekeeping.js';
import { type Job, JobScheduler } from '../platform/jobs/scheduler.js';
import type { Metrics } from '../platform/metrics.js';
import type { Services } from './services.js';

export interface ScheduleParts {
  /** The admin channel; undefined when Slack is off. */
  notices: AdminNotices | undefined;
  /** The setpass side; undefined when it is off. */
  links: ReminderLinks | undefined;
  /** The mail outbox; undefined when mail is off. */
  outbox: ReminderOutbox | undefined;
  /** One look at the applications sheet; undefined when Sheets is off. */
  pollSheet: (() => Promise<unknown>) | undefined;
}

/** The reminder email, with the signposts from the settings. */
export function userReminderTexts(config: Config): UserReminderTexts {
  return {
    email: (input: ReminderEmailInput) => ({
      to: input.to,
      ...reminderEmail({
        name: input.name,
        username: input.username,
        link: input.link.url,
        expiresAt: input.link.expiresAt,
        reminder: input.reminder,
        max: input.max,
        fresh: input.fresh,
        loginUrl: config.web.loginUrl,
        gettingStartedUrl: config.web.gettingStartedUrl,
        supportEmail: config.mail.supportEmail,
        forgotUrl: forgotPageUrl(config.http.publicUrl),
      }),
      ...(config.mail.supportEmail ? { replyTo: config.mail.supportEmail } : {}),
    }),
    gaveUp: passwordNeverSetNotice,
  };
}

export function scheduledJobs(services: Services, parts: ScheduleParts, owner?: string): Job[] {
  const { config, redis, log, audit, metrics } = services;
  const { schedules } = config;
  const store = new ApplicationStore(redis);
  const jobs: Job[] = [
    {
      name: 'housekeeping',
      schedule: schedules.housekeeping,
      run: () =>
        keepHouse({ redis, keyPrefix: config.redis.keyPrefix, auditMaxLength: config.audit.maxLength, log }),
    },
  ];
  const { pollSheet, links, outbox, notices } = parts;
  if (pollSheet) {
    jobs.push({ name: 'sheet-poll', schedule: schedules.sheetPoll, run: () => pollSheet() });
  } else {
    log.info('sheet poll: not scheduled (Google Sheets is off)');
  }
  if (links && outbox && schedules.reminderMax > 0) {
    jobs.push({
      name: 'user-reminders',
      schedule: schedules.reminder,
      run: async () => {
        const run = await remindUsers({
          redis,
          store,
          links: countingExpiredLinks(links, metrics),
          outbox,
          notices,
          accounts: services.keystone && new AccountGuard(services.keystone, protectionPolicy(config)),
          texts: userReminderTexts(config),
          audit,
          log,
          policy: {
            afterMs: schedules.reminderAfterMs,
            intervalMs: schedules.reminderIntervalMs,
            max: schedules.reminderMax,
          },
          owner,
        });
        metrics.remindersSent('user', run.sent);
        return run;
      },
    });
  } else {
    log.info(
      schedules.reminderMax === 0
        ? 'user reminders: off (REMINDER_MAX is 0)'
        : 'user reminders: not scheduled (they need mail and the password page)',
    );
  }
  if (notices) {
    jobs.push({
      name: 'admin-reminders',
      schedule: schedules.adminReminder,
      run: async () => {
        const run = await remindAdmins({
          redis,
          store,
          notices,
          texts: { digest: adminDigest, threadReply: stillWaitingReply },
          audit,
          log,
          afterMs: schedules.adminReminderAfterMs,
        });
        metrics.remindersSent('admin', run.reminded.length);
        return run;
      },
    });
  } else {
    log.info('admin reminders: not scheduled (Slack is off)');
  }
  return jobs;
}

/**
 * The reminders ask for a fresh link only when the user's link expired unused: that is when the
 * metrics count an expired link.
 */
function countingExpiredLinks(links: ReminderLinks, metrics: Pick<Metrics, 'link'>): ReminderLinks {
  return {
    status: (userId) => links.status(userId),
    current: (userId) => links.current(userId),
    resend: async (user, options, deliver) => {
      const resent = await links.resend(user, options, deliver);
      if (resent.kind === 'sent' && resent.fresh) metrics.link('expired');
      return resent;
    },
    pinOnFile: (userId) => links.pinOnFile(userId),
    passwordSetAt: (userId) => links.passwordSetAt(userId),
  };
}

/** Schedules every job this bot can run; `stop()` on the answer ends the schedules. */
export function startSchedules(services: Services, parts: ScheduleParts): JobScheduler {
  const scheduler = new JobScheduler({
    redis: services.redis,
    log: services.log,
    inflight: services.inflight,
    timezone: services.config.schedules.timezone,
    metrics: services.metrics,
  });
  scheduler.start(scheduledJobs(services, parts, scheduler.owner));
  return scheduler;
}
