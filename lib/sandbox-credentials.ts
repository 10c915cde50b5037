import type { Config } from './config';

/**
 * Credentials the local provider sandboxes accept and the provider adapters use when no real
 * key is configured. Not secrets: they only ever reach a sandbox on 127.0.0.1.
 */
export const SANDBOX_CREDENTIALS = {
  stripeSecretKey: 'sk_test_sandbox',
  stripeWebhookSecret: 'whsec_sandbox_local_development',
  cloudinary: { cloudName: 'sandbox', apiKey: '123456789012345', apiSecret: 'sandbox-api-secret' },
  emailApiKey: 'sandbox-email-key',
  social: { clientId: 'sandbox-client', clientSecret: 'sandbox-client-secret' },
} as const;

/**
 * The secret Stripe webhooks are verified with: STRIPE_WEBHOOK_SECRET, or, while Stripe runs
 * sandboxed (no STRIPE_SECRET_KEY), the one the Stripe sandbox signs with. With a real key and
 * no webhook secret there is none: the webhook route must refuse every delivery.
 */
export function stripeWebhookSecret(config: Pick<Config, 'STRIPE_WEBHOOK_SECRET' | 'STRIPE_SECRET_KEY'>): string | undefined {
  return config.STRIPE_WEBHOOK_SECRET ?? (config.STRIPE_SECRET_KEY ? undefined : SANDBOX_CREDENTIALS.stripeWebhookSecret);
}
