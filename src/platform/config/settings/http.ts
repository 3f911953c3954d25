/** The one HTTP listener: address, TLS, the public URL, proxies and the metrics port. */
import { isAddressOrRange } from '../../http/client-ip.js';
import { bool, list, setting, text, url, wholeNumber } from '../setting.js';

export const httpSettings = {
  port: setting(
    'PORT',
    'HTTP',
    'the one HTTP listener: /slack/events, the password page, /token, /healthz, /metrics',
    wholeNumber.min(0).max(65535),
    'a port number from 0 to 65535',
    { fallback: '3000' },
  ),
  host: setting('HOST', 'HTTP', 'address to listen on', text, 'an address such as 0.0.0.0', {
    fallback: '0.0.0.0',
  }),
  metricsPort: setting(
    'METRICS_PORT',
    'HTTP',
    'a second listener serving only /metrics; the setpass role serves /metrics nowhere else (unset: off)',
    wholeNumber.min(0).max(65535),
    'a port number from 0 to 65535',
  ),
  metricsHost: setting(
    'METRICS_HOST',
    'HTTP',
    'address of the METRICS_PORT listener',
    text,
    'an address such as 127.0.0.1',
    { fallback: '127.0.0.1' },
  ),
  publicUrl: setting(
    'PUBLIC_URL',
    'HTTP',
    'base URL of the password page, used in emailed links',
    url,
    'an http(s) URL such as https://register.example.org',
  ),
  tlsCertFile: setting(
    'TLS_CERT_FILE',
    'HTTP',
    'PEM certificate: with TLS_KEY_FILE the listener serves HTTPS itself',
    text,
    'a file path',
  ),
  tlsKeyFile: setting('TLS_KEY_FILE', 'HTTP', 'PEM private key for TLS_CERT_FILE', text, 'a file path'),
  trustedProxies: setting(
    'TRUSTED_PROXIES',
    'HTTP',
    'comma list of proxy addresses and CIDR ranges (IPv4 or IPv6) whose X-Forwarded-For/-Proto are honoured',
    list.refine((entries) => entries.every(isAddressOrRange)),
    'a comma-separated list of IP addresses and CIDR ranges such as 127.0.0.1, 10.0.0.0/8, fd00::/8',
    { fallback: '' },
  ),
  allowInsecurePublicUrl: setting(
    'ALLOW_INSECURE_PUBLIC_URL',
    'HTTP',
    'allow an http:// PUBLIC_URL in production',
    bool,
    'true or false',
    { fallback: 'false' },
  ),
} as const;
