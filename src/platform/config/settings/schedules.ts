/** When the poll, the reminders and housekeeping run, and how often users are reminded. */
import { z } from 'zod';
import { cron, duration, isTimeZone, setting, wholeNumber } from '../setting.js';

export const schedulesSettings = {
  sheetPollCron: setting(
    'SHEET_POLL_CRON',
    'Schedules',
    'when to read the sheet',
    cron,
    'a cron expression with 5 or 6 fields',
    {
      fallback: '*/2 * * * *',
    },
  ),
  reminderCron: setting(
    'REMINDER_CRON',
    'Schedules',
    'when to remind users with unused links',
    cron,
    'a cron expression with 5 or 6 fields',
    { fallback: '0 9 * * *' },
  ),
  adminReminderCron: setting(
    'ADMIN_REMINDER_CRON',
    'Schedules',
    'when to remind admins of waiting applicants',
    cron,
    'a cron expression with 5 or 6 fields',
    { fallback: '0 10 * * 1-5' },
  ),
  housekeepingCron: setting(
    'HOUSEKEEPING_CRON',
    'Schedules',
    'when to release stuck application locks and trim the audit stream',
    cron,
    'a cron expression with 5 or 6 fields',
    { fallback: '7 * * * *' },
  ),
  timezone: setting(
    'TZ',
    'Schedules',
    'time zone of the schedules',
    z.string().refine(isTimeZone),
    'an IANA zone such as Europe/Berlin',
    {
      fallback: 'UTC',
    },
  ),
  reminderAfter: setting(
    'REMINDER_AFTER',
    'Schedules',
    'first user reminder after',
    duration,
    'a duration such as 2d',
    {
      fallback: '2d',
    },
  ),
  reminderInterval: setting(
    'REMINDER_INTERVAL',
    'Schedules',
    'time between user reminders',
    duration,
    'a duration such as 2d',
    {
      fallback: '2d',
    },
  ),
  reminderMax: setting(
    'REMINDER_MAX',
    'Schedules',
    'reminders per user at most',
    wholeNumber.min(0).max(50),
    'a whole number from 0 to 50',
    {
      fallback: '3',
    },
  ),
  adminReminderAfter: setting(
    'ADMIN_REMINDER_AFTER',
    'Schedules',
    'remind admins of applicants waiting longer than',
    duration,
    'a duration such as 24h',
    { fallback: '24h' },
  ),
} as const;
