/** The password page: the signing secret, link lifetime, PIN attempts and the password rules. */
import { duration, secretKey, setting, text, wholeNumber } from '../setting.js';

export const setpassSettings = {
  setpassSecret: setting(
    'SETPASS_SECRET',
    'Setpass',
    '32+ random bytes, base64: encrypts temporary passwords, keys token hashes',
    secretKey,
    'at least 32 random bytes in base64 (make one with `openssl rand -base64 32`)',
    { secret: true },
  ),
  setpassTokenTtl: setting(
    'SETPASS_TOKEN_TTL',
    'Setpass',
    'lifetime of a password link',
    duration,
    'a duration such as 90s, 15m, 24h, 7d',
    {
      fallback: '7d',
    },
  ),
  appCredentialTtl: setting(
    'APP_CREDENTIAL_TTL',
    'Setpass',
    'lifetime of the application credential the password page makes for the command line (unset: it does not expire)',
    duration,
    'a duration such as 90d, 24h',
  ),
  setpassMaxPinAttempts: setting(
    'SETPASS_MAX_PIN_ATTEMPTS',
    'Setpass',
    'wrong PINs before a link is burned',
    wholeNumber.min(1).max(20),
    'a whole number from 1 to 20',
    { fallback: '3' },
  ),
  passwordMinLength: setting(
    'PASSWORD_MIN_LENGTH',
    'Setpass',
    'minimum length of a new password',
    wholeNumber.min(8).max(128),
    'a whole number from 8 to 128',
    { fallback: '12' },
  ),
  passwordMinScore: setting(
    'PASSWORD_MIN_SCORE',
    'Setpass',
    'minimum zxcvbn strength score (0–4)',
    wholeNumber.min(0).max(4),
    'a whole number from 0 to 4',
    { fallback: '3' },
  ),
  setpassSiteName: setting(
    'SETPASS_SITE_NAME',
    'Setpass',
    'the cloud as users know it, in the password page header and title',
    text,
    'a short name such as "MOC OpenStack"',
    { fallback: 'OpenStack' },
  ),
} as const;
