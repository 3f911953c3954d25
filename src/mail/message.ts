/** One email as the bot composes it; the sender (MAIL_FROM) is added by the transport. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
  replyTo?: string;
}
