/** The Slack app: tokens, the admin channel and who the admins are. */
import { z } from 'zod';
import { list, setting, text, url } from '../setting.js';

export const slackSettings = {
  slackBotToken: setting('SLACK_BOT_TOKEN', 'Slack', 'bot token (xoxb-…)', text, 'the xoxb- bot token', {
    secret: true,
  }),
  slackSigningSecret: setting(
    'SLACK_SIGNING_SECRET',
    'Slack',
    'signing secret that verifies requests to /slack/events',
    text,
    "the app's signing secret",
    { secret: true },
  ),
  slackAppToken: setting(
    'SLACK_APP_TOKEN',
    'Slack',
    'app-level token (xapp-…); when set the bot uses Socket Mode',
    z.string().startsWith('xapp-'),
    'an app-level token starting with xapp-',
    { secret: true },
  ),
  slackAdminChannel: setting(
    'SLACK_ADMIN_CHANNEL',
    'Slack',
    'channel id where applicant cards and outcomes are posted',
    z.string().regex(/^[CG][A-Z0-9]+$/),
    'a channel id such as C0123456789 (not the channel name)',
  ),
  slackAdmins: setting(
    'SLACK_ADMINS',
    'Slack',
    'comma list of Slack user ids allowed to act; default: members of the admin channel',
    list,
    'a comma-separated list of user ids such as U0123,U0456',
  ),
  slackApiUrl: setting(
    'SLACK_API_URL',
    'Slack',
    'Slack Web API base URL',
    url,
    'an http(s) URL ending in /api/',
    {
      fallback: 'https://slack.com/api/',
    },
  ),
} as const;
