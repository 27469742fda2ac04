// Where e-mails go: the log by default, an SMTP server when SMTP_URL is set.
import nodemailer from "nodemailer";
import type { Logger } from "../../lib/log";

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
}

/**
 * Without SMTP_URL e-mails go to the log — in development with their text (that is how one reads a
 * reset token there), in production without it: a log reader must not be able to take over an
 * account with the token an e-mail carries.
 */
export function createMailer(
  smtpUrl: string | undefined,
  log: Logger,
  options: { logBodies?: boolean; from?: string } = {},
): Mailer {
  const from = options.from ?? "stayhub <no-reply@stayhub.dev>";
  if (!smtpUrl) {
    return {
      async send(mail) {
        log.info("mail", {
          to: mail.to,
          subject: mail.subject,
          ...(options.logBodies === false ? { text: "[not logged in production: set SMTP_URL]" } : { text: mail.text }),
        });
      },
    };
  }
  const transport = nodemailer.createTransport(smtpUrl);
  return {
    async send(mail) {
      await transport.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text });
    },
  };
}
