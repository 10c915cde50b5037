/**
 * Credentials the local provider sandboxes accept and the provider adapters use when no real
 * key is configured. Not secrets: they only ever reach a sandbox on 127.0.0.1. The Stripe webhook
 * secret is not among them: anyone reading this file could sign events with it (see
 * loadStripeWebhookSecret in lib/secrets.ts).
 */
export const SANDBOX_CREDENTIALS = {
  stripeSecretKey: 'sk_test_sandbox',
  cloudinary: { cloudName: 'sandbox', apiKey: '123456789012345', apiSecret: 'sandbox-api-secret' },
  emailApiKey: 'sandbox-email-key',
  freepikApiKey: 'sandbox-freepik-key',
  social: { clientId: 'sandbox-client', clientSecret: 'sandbox-client-secret' },
  ayrshareApiKey: 'sandbox-ayrshare-key',
  replicateApiToken: 'r8_sandbox-replicate-token',
  assemblyAiApiKey: 'sandbox-assemblyai-key',
} as const;
