/** The mail relay and the addresses mail is sent from and to. */
import { z } from 'zod';
import { bool, setting, text } from '../setting.js';

export const mailSettings = {
  smtpUrl: setting(
    'SMTP_URL',
    'Mail',
    'mail relay, e.g. smtp://user:pass@host:587',
    z.url({ protocol: /^smtps?$/ }),
    'an smtp:// or smtps:// URL',
    { secret: true },
  ),
  smtpRequireTls: setting(
    'SMTP_REQUIRE_TLS',
    'Mail',
    'require STARTTLS on smtp:// relays',
    bool,
    'true or false',
    {
      fallback: 'true',
    },
  ),
  smtpCaFile: setting(
    'SMTP_CA_FILE',
    'Mail',
    'extra CA certificate (PEM) for the relay',
    text,
    'a file path',
  ),
  mailFrom: setting(
    'MAIL_FROM',
    'Mail',
    'sender address',
    text,
    'an address such as "Cloud <noreply@x.org>"',
  ),
  supportEmail: setting(
    'SUPPORT_EMAIL',
    'Mail',
    'address users are told to write to',
    z.email(),
    'an email address',
  ),
} as const;
