import type { MailMessage } from '../providers/email';

export type BillingEmailTemplate = 'dunning_reminder' | 'trial_will_end' | 'payment_action_required';
export type BillingEmailData = Record<string, string | number | null>;

export const money = (cents: unknown, currency: unknown) =>
  typeof cents === 'number'
    ? `${(cents / 100).toFixed(2)} ${(typeof currency === 'string' ? currency : 'usd').toUpperCase()}`
    : 'your subscription amount';
const date = (iso: unknown) => (typeof iso === 'string' ? iso.slice(0, 10) : 'soon');

/** Subject and plain text for each billing email; tags carry the template for search. */
export function renderBillingEmail(
  to: string,
  template: BillingEmailTemplate,
  data: BillingEmailData,
  idempotencyKey: string,
): MailMessage {
  const hello = data.firstName ? `Hi ${String(data.firstName)},` : 'Hi,';
  const bodies: Record<BillingEmailTemplate, { subject: string; lines: string[] }> = {
    dunning_reminder: {
      subject: 'Your payment did not go through',
      lines: [
        `We could not charge ${money(data.amountDueCents, data.currency)} for your subscription.`,
        `Please update your payment method before ${date(data.graceEndsAt)} to keep your plan.`,
      ],
    },
    trial_will_end: {
      subject: 'Your trial ends soon',
      lines: [`Your free trial ends on ${date(data.trialEnd)}. Your plan continues automatically unless you cancel.`],
    },
    payment_action_required: {
      subject: 'Confirm your payment',
      lines: ['Your bank asked for a confirmation of your latest payment. Please complete it to keep your plan.'],
    },
  };
  const { subject, lines } = bodies[template];
  return { to, subject, text: [hello, '', ...lines].join('\n'), idempotencyKey, tags: { kind: 'billing', template } };
}
