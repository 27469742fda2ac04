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

export function createMailer(smtpUrl: string | undefined, log: Logger, from = "stayhub <no-reply@stayhub.dev>"): Mailer {
  if (!smtpUrl) {
    return {
      async send(mail) {
        log.info("mail", { to: mail.to, subject: mail.subject, text: mail.text });
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
