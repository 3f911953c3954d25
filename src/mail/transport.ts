/**
 * The SMTP relay, through nodemailer. STARTTLS is required on smtp:// unless SMTP_REQUIRE_TLS=false
 * (the link in a welcome email must not cross the network in clear); smtps:// is TLS from the start.
 * SMTP_CA_FILE is trusted in addition to the system CAs, for relays with a private CA.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates } from 'node:tls';
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import type { Config } from '../platform/config/config.js';
import { type ErrorKind, KaizenError } from '../platform/errors.js';
import type { MailMessage } from './message.js';

export interface MailTransport {
  /** Sends one message; throws a `MailDeliveryError` saying whether trying again can help. */
  send(message: MailMessage): Promise<void>;
  /** Connects and authenticates without sending, for `kaizen doctor`. */
  verify(): Promise<void>;
  close(): void;
}

/** A failed delivery; `permanent` when the relay refused the message itself (5xx), so retrying cannot help. */
export class MailDeliveryError extends KaizenError {
  readonly permanent: boolean;
  constructor(kind: ErrorKind, message: string, permanent: boolean, status?: number) {
    super(kind, message, { service: 'smtp', status });
    this.permanent = permanent;
  }
}

export interface TransportOptions {
  /** Milliseconds; connection and greeting timeouts use it, the socket timeout is three times it. */
  timeoutMs?: number;
}

/** The transport for these settings, or undefined when SMTP_URL or MAIL_FROM is missing. */
export function transportFromConfig(
  mail: Config['mail'],
  options: TransportOptions = {},
): MailTransport | undefined {
  if (!mail.smtpUrl || !mail.from) return undefined;
  return new SmtpTransport(mail.smtpUrl, mail.from, {
    requireTls: mail.requireTls,
    caFile: mail.caFile,
    ...options,
  });
}

export class SmtpTransport implements MailTransport {
  private readonly transporter: Transporter<SMTPPool.SentMessageInfo>;
  private readonly where: string;

  constructor(
    smtpUrl: string,
    private readonly from: string,
    options: TransportOptions & { requireTls: boolean; caFile?: string | undefined },
  ) {
    const url = new URL(smtpUrl);
    const implicitTls = url.protocol === 'smtps:';
    this.where = `The mail relay at ${url.hostname}:${url.port || (implicitTls ? '465' : '587')}`;
    const timeout = options.timeoutMs ?? 10_000;
    // One TLS context for every connection: building it from ~140 root certificates per email costs ~25 ms CPU.
    const secureContext =
      options.caFile === undefined
        ? undefined
        : createSecureContext({ ca: [...rootCertificates, readFileSync(options.caFile)] });
    // Host, port and credentials are taken apart here: nodemailer's own `url` option drops `tls.ca`.
    this.transporter = nodemailer.createTransport({
      host: url.hostname,
      port: url.port === '' ? (implicitTls ? 465 : 587) : Number(url.port),
      auth: url.username
        ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) }
        : undefined,
      secure: implicitTls,
      requireTLS: !implicitTls && options.requireTls,
      tls: secureContext === undefined ? {} : { secureContext },
      // Connections are kept and reused: a fresh session (connect, greeting, STARTTLS, login) per
      // email was most of an approval's time outside Keystone. The relay may close an idle one;
      // the pool opens another when the next email comes.
      pool: true,
      maxConnections: 2,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout * 3,
    });
  }

  async send(message: MailMessage): Promise<void> {
    try {
      await this.transporter.sendMail({
        from: this.from,
        to: message.to,
        replyTo: message.replyTo,
        subject: message.subject,
        text: message.text,
        html: message.html,
      });
    } catch (error) {
      throw this.describe(error);
    }
  }

  async verify(): Promise<void> {
    try {
      await this.transporter.verify();
    } catch (error) {
      throw this.describe(error);
    }
  }

  close(): void {
    this.transporter.close();
  }

  /** nodemailer's error as a message an operator can act on; its own text can quote the SMTP URL. */
  private describe(error: unknown): MailDeliveryError {
    const { code, responseCode, message } = error as {
      code?: string;
      responseCode?: number;
      message?: string;
    };
    const text = message ?? '';
    if (code === 'EAUTH' || code === 'ENOAUTH') {
      return new MailDeliveryError(
        'unauthorized',
        `${this.where} refused the user name and password in SMTP_URL`,
        false,
        responseCode,
      );
    }
    if (/certificate|self[- ]signed|unable to verify|CERT_/i.test(text)) {
      return new MailDeliveryError(
        'config',
        `${this.where} presented a certificate this bot does not trust: set SMTP_CA_FILE to its CA, or fix the host name in SMTP_URL`,
        false,
      );
    }
    if (code === 'ETLS' || /STARTTLS/i.test(text)) {
      return new MailDeliveryError(
        'config',
        `${this.where} does not offer STARTTLS: use an smtps:// URL, or set SMTP_REQUIRE_TLS=false for a relay on a trusted network`,
        false,
      );
    }
    if (typeof responseCode === 'number' && responseCode >= 400) {
      const permanent = responseCode >= 500;
      return new MailDeliveryError(
        permanent ? 'upstream' : 'unreachable',
        `${this.where} ${permanent ? 'refused' : 'deferred'} the message (SMTP ${responseCode})`,
        permanent,
        responseCode,
      );
    }
    if (code === 'ETIMEDOUT') {
      return new MailDeliveryError('unreachable', `${this.where} did not answer in time`, false);
    }
    const refused = /ECONNREFUSED/.test(text) ? ' (connection refused)' : '';
    return new MailDeliveryError(
      'unreachable',
      `${this.where} did not answer${refused}: is it running?`,
      false,
    );
  }
}
