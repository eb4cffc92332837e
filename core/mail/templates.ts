// Text + HTML bodies for the email flows: product name, the link and its expiry in each. Small on
// purpose; every interpolated value is HTML-escaped (the product name comes from config, the link
// carries a token, neither is trusted to be markup).
import type { MailMessage } from './mailer.js';

export interface LinkMailInput {
  productName: string;
  to: string;
  link: string;
  ttlMs: number;
}

const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** "30 minutes", "24 hours", "1 hour 30 minutes". */
export function describeDuration(ms: number): string {
  const totalMinutes = Math.max(1, Math.round(ms / 60_000));
  const days = Math.floor(totalMinutes / 1440);
  const hours = Math.floor((totalMinutes % 1440) / 60);
  const minutes = totalMinutes % 60;
  const part = (n: number, unit: string) => (n === 0 ? [] : [`${n} ${unit}${n === 1 ? '' : 's'}`]);
  if (days > 0 && hours === 0 && minutes === 0) return part(days * 24, 'hour').join(' ');
  return [...part(days, 'day'), ...part(hours, 'hour'), ...part(minutes, 'minute')].join(' ');
}

function render(input: LinkMailInput, subject: string, intro: string, action: string, outro: string): MailMessage {
  const expiry = describeDuration(input.ttlMs);
  const text = [
    `${intro}`,
    '',
    `${action}:`,
    input.link,
    '',
    `The link expires in ${expiry} and works once.`,
    outro,
    '',
    `— ${input.productName}`,
    '',
  ].join('\n');
  const p = escapeHtml(input.productName);
  const href = escapeHtml(input.link);
  const html = [
    '<!doctype html>',
    `<html><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>`,
    '<body style="font-family: sans-serif; line-height: 1.5">',
    `<p>${escapeHtml(intro)}</p>`,
    `<p><a href="${href}">${escapeHtml(action)}</a></p>`,
    `<p>The link expires in ${escapeHtml(expiry)} and works once.<br>${escapeHtml(outro)}</p>`,
    `<p>— ${p}</p>`,
    '</body></html>',
    '',
  ].join('\n');
  return { to: input.to, subject, text, html };
}

export function passwordResetMail(input: LinkMailInput): MailMessage {
  return render(
    input,
    `Reset your ${input.productName} password`,
    `Someone asked to reset the password of your ${input.productName} account.`,
    'Choose a new password',
    'If it was not you, ignore this message: your password stays as it is.',
  );
}

export function emailVerificationMail(input: LinkMailInput): MailMessage {
  return render(
    input,
    `Verify your email address for ${input.productName}`,
    `Please confirm that this address belongs to your ${input.productName} account.`,
    'Verify my email address',
    'If you did not create an account, ignore this message.',
  );
}
