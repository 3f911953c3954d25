/** Links shown to new users. */
import { setting, url } from '../setting.js';

export const webSettings = {
  loginUrl: setting(
    'LOGIN_URL',
    'Web',
    'dashboard login page, shown in emails and after success',
    url,
    'a URL',
  ),
  gettingStartedUrl: setting('GETTING_STARTED_URL', 'Web', 'documentation for new users', url, 'a URL'),
  termsUrl: setting('TERMS_URL', 'Web', 'terms of use', url, 'a URL'),
} as const;
