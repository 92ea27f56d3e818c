import nodemailer from 'nodemailer';
import type { Config } from '../config.js';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Our notification key, in a header: lets support find a message and a sink assert on it. */
  notificationKey: string;
}

/** SMTP through one pooled nodemailer transport per process. */
export function createMailer(smtp: Config['smtp']) {
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: 5,
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    // nodemailer waits minutes by default (connecting, greeting, an idle socket): see SMTP_TIMEOUT_SECONDS.
    connectionTimeout: smtp.timeoutSeconds * 1000,
    greetingTimeout: smtp.timeoutSeconds * 1000,
    socketTimeout: smtp.timeoutSeconds * 1000,
    ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.password ?? '' } } : {}),
  });
  return {
    async send(mail: OutgoingMail): Promise<{ messageId: string }> {
      const info = await transport.sendMail({
        from: smtp.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        headers: { 'X-Eventbook-Notification': mail.notificationKey },
      });
      return { messageId: info.messageId };
    },
    close(): void {
      transport.close();
    },
  };
}

export type Mailer = ReturnType<typeof createMailer>;
