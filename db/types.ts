import type { ColumnType, Generated, GeneratedAlways, Insertable, Selectable, Updateable } from 'kysely';

/**
 * Hand-written kysely types for the live schema; test/integration/db-types.test.ts checks every
 * table and column here against information_schema (names, nullability, defaults) so they cannot drift.
 */
// kysely's Generated<> must not wrap another ColumnType (the select type would be the wrapper), so
// the defaulted variants are spelled out: an insert type including `undefined` means "has a default".
export type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** NOT NULL timestamptz with a default (updated_at, started_at...). */
export type DefaultTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
export type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
/** A nullable jsonb. Insert JSON text: node-postgres would turn a JS array into a PG array. */
export type Json<T = unknown> = ColumnType<T, T | string | undefined | null, T | string | null>;
/** A NOT NULL jsonb without a default. */
export type RequiredJson<T = unknown> = ColumnType<T, string, string>;
/** A NOT NULL jsonb with a default. */
export type DefaultedJson<T = Record<string, unknown>> = ColumnType<T, string | undefined, string>;
/** A `date` column: node-postgres parses it into a Date at local midnight (run processes in UTC). */
export type DateColumn = ColumnType<Date, Date | string, Date | string>;
/** numeric with a default: node-postgres returns a string to keep precision; Number() it where a float suffices. */
export type DefaultNumeric = ColumnType<string, number | string | undefined, number | string>;

export interface UsersTable {
  id: Generated<string>;
  email: string;
  first_name: string | null;
  last_name: string | null;
  status: Generated<string>;
  role: Generated<'user' | 'admin'>;
  subscription_tier: Generated<string>;
  subscription_status: string | null;
  subscription_period_end: Timestamp | null;
  trial_end: Timestamp | null;
  stripe_customer_id: string | null;
  free_video_used: Generated<boolean>;
  timezone: Generated<string>;
  affiliate_code: string | null;
  referred_by_code: string | null;
  is_affiliate: Generated<boolean>;
  affiliate_status: Generated<string>;
  affiliate_joined_at: Timestamp | null;
  metadata: DefaultedJson;
  posts_generated_this_month: Generated<number>;
  last_generation_reset: Timestamp | null;
  /** SSELFIE (0013): images a user may generate per calendar month (UTC). */
  monthly_generation_limit: Generated<number>;
  /** `YYYY-MM` that posts_generated_this_month counts */
  content_generation_month: string | null;
  content_generation_scheduled_for: Timestamp | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface WorkspacesTable {
  id: Generated<string>;
  name: string;
  owner_id: string;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface TeamMembersTable {
  id: Generated<string>;
  workspace_id: string;
  user_id: string;
  role: Generated<'owner' | 'admin' | 'editor' | 'viewer'>;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface ApiKeysTable {
  id: Generated<string>;
  user_id: string;
  name: string;
  key_prefix: string;
  key_hash: string;
  scopes: Generated<string[]>;
  rate_limit: number | null;
  expires_at: Timestamp | null;
  revoked_at: Timestamp | null;
  last_used_at: Timestamp | null;
  usage_count: Generated<number>;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface AuditLogTable {
  id: Generated<string>;
  user_id: string | null;
  action: string;
  entity_type: string | null;
  entity_id: string | null;
  old_values: Json | null;
  new_values: Json | null;
  ip_address: string | null;
  user_agent: string | null;
  request_id: string | null;
  created_at: CreatedAt;
}

export type RunStatus = 'running' | 'completed' | 'failed' | 'canceled' | 'terminated' | 'timed_out';

export interface JobRunsTable {
  id: string;
  user_id: string | null;
  type: string;
  status: Generated<RunStatus>;
  stage: Generated<string>;
  progress: Generated<number>;
  domain_id: string | null;
  input: Json | null;
  result: Json | null;
  error_type: string | null;
  error_message: string | null;
  started_at: DefaultTimestamp;
  closed_at: Timestamp | null;
  /** Scheduled posts, subscriptions: never counted against the concurrency cap. */
  long_lived: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface IdempotencyKeysTable {
  user_id: string;
  key: string;
  request_hash: string;
  response_status: number | null;
  response_body: Json | null;
  created_at: CreatedAt;
}

// ---- Billing (0002) -------------------------------------------------------------------------

export type PlanSlug = 'free' | 'basic' | 'premium' | 'creator' | 'enterprise';
export type SubscriptionStatus =
  'trialing' | 'active' | 'past_due' | 'unpaid' | 'paused' | 'canceled' | 'incomplete' | 'incomplete_expired';
export type BillingPeriod = 'month' | 'year';

export interface SubscriptionPlansTable {
  id: Generated<string>;
  slug: PlanSlug;
  name: string;
  description: string | null;
  is_active: Generated<boolean>;
  is_visible: Generated<boolean>;
  sort_order: Generated<number>;
  metadata: DefaultedJson;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface SubscriptionPlanFeaturesTable {
  id: Generated<string>;
  plan_id: string;
  /** null = unlimited */
  video_limit: number | null;
  /** content_types.key values the plan may generate */
  allowed_content_types: Generated<string[]>;
  priority_processing: Generated<boolean>;
  youtube_channel_limit: Generated<number>;
  youtube_auto_import: Generated<boolean>;
  api_rate_limit_per_minute: Generated<number>;
  max_concurrent_jobs: Generated<number>;
  /** null = unlimited */
  posts_per_month: number | null;
  clips_per_video: Generated<number>;
  max_video_duration_seconds: number;
  max_upload_bytes: number;
  social_accounts: Generated<number>;
  team_members: Generated<number>;
  /** null = unlimited */
  storage_limit_gb: number | null;
  /** credits granted into the ledger each paid period */
  monthly_credits: Generated<number>;
  support_level: Generated<'community' | 'email' | 'priority' | 'dedicated'>;
  /** AI-written posts of the monthly content plan; 0 = not in the plan */
  monthly_post_limit: Generated<number>;
  content_pillar_limit: Generated<number>;
  /** null = uncapped */
  ai_daily_token_limit: number | null;
  /** null = uncapped; integer micro-dollars */
  ai_monthly_cost_limit_micro_usd: number | null;
  metadata: DefaultedJson;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

/** One-time credit packs: the credits a Stripe price buys (top-ups). */
export interface CreditPacksTable {
  id: Generated<string>;
  slug: string;
  name: string;
  credits: number;
  stripe_price_id: string;
  amount_cents: number;
  currency: Generated<string>;
  is_active: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface SubscriptionPlanPricesTable {
  id: Generated<string>;
  plan_id: string;
  stripe_price_id: string;
  stripe_product_id: string | null;
  amount_cents: number;
  currency: Generated<string>;
  billing_period: BillingPeriod;
  billing_interval: Generated<number>;
  trial_period_days: Generated<number>;
  is_active: Generated<boolean>;
  is_default: Generated<boolean>;
  archived_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface UserSubscriptionsTable {
  id: Generated<string>;
  user_id: string;
  plan_id: string;
  stripe_subscription_id: string | null;
  stripe_customer_id: string | null;
  stripe_price_id: string | null;
  status: SubscriptionStatus;
  billing_period: BillingPeriod | null;
  current_period_start: Timestamp | null;
  current_period_end: Timestamp | null;
  trial_start: Timestamp | null;
  trial_end: Timestamp | null;
  cancel_at_period_end: Generated<boolean>;
  canceled_at: Timestamp | null;
  ended_at: Timestamp | null;
  last_event_at: Timestamp | null;
  metadata: DefaultedJson;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export type SubscriptionEventStatus = 'pending' | 'processed' | 'failed' | 'ignored';

export interface SubscriptionEventsTable {
  id: Generated<string>;
  stripe_event_id: string;
  event_type: string;
  stripe_subscription_id: string | null;
  stripe_created_at: Timestamp | null;
  user_id: string | null;
  user_subscription_id: string | null;
  status: Generated<SubscriptionEventStatus>;
  payload: RequiredJson;
  webhook_received_at: DefaultTimestamp;
  processed_at: Timestamp | null;
  error_message: string | null;
  retry_count: Generated<number>;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface SubscriptionUsageTable {
  id: Generated<string>;
  user_id: string;
  user_subscription_id: string | null;
  period_start: Timestamp;
  period_end: Timestamp;
  /** snapshot of the plan's video_limit; null = unlimited */
  usage_limit: number | null;
  videos_processed: Generated<number>;
  videos_reserved: Generated<number>;
  content_generated: Generated<number>;
  clips_generated: Generated<number>;
  posts_published: Generated<number>;
  api_calls_made: Generated<number>;
  storage_used_mb: Generated<number>;
  /** minutes of video ingested in the period (migration 0014) */
  processing_minutes: DefaultNumeric;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface SubscriptionPlanMigrationsTable {
  id: Generated<string>;
  user_id: string;
  user_subscription_id: string | null;
  from_plan_id: string | null;
  to_plan_id: string;
  migration_type: 'upgrade' | 'downgrade' | 'crossgrade' | 'reactivation';
  migration_reason: string | null;
  effective_date: Timestamp;
  is_prorated: Generated<boolean>;
  proration_amount_cents: number | null;
  currency: Generated<string>;
  stripe_subscription_id: string | null;
  stripe_invoice_id: string | null;
  stripe_event_id: string | null;
  status: Generated<'pending' | 'scheduled' | 'completed' | 'canceled'>;
  completed_at: Timestamp | null;
  metadata: DefaultedJson;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export type AdminGrantType = 'full_access' | 'video_limit_override' | 'unlimited_videos' | 'trial_extension';

export interface AdminSubscriptionGrantsTable {
  id: Generated<string>;
  user_id: string;
  granted_by_id: string | null;
  grant_type: AdminGrantType;
  tier_override: Exclude<PlanSlug, 'free'> | null;
  video_limit_override: number | null;
  reason: string;
  expires_at: Timestamp | null;
  is_active: Generated<boolean>;
  revoked_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface UserCreditsTable {
  user_id: string;
  balance: Generated<number>;
  total_purchased: Generated<number>;
  total_granted: Generated<number>;
  total_used: Generated<number>;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export type CreditTransactionType =
  'purchase' | 'subscription_grant' | 'usage' | 'reservation' | 'refund' | 'bonus' | 'adjustment' | 'expiry';

export interface CreditTransactionsTable {
  id: Generated<string>;
  user_id: string;
  amount: number;
  transaction_type: CreditTransactionType;
  balance_after: number;
  description: string | null;
  reference_id: string | null;
  idempotency_key: string | null;
  stripe_payment_id: string | null;
  payment_amount_cents: number | null;
  currency: string | null;
  created_at: CreatedAt;
}

export interface PaymentsTable {
  id: Generated<string>;
  user_id: string | null;
  stripe_payment_id: string;
  stripe_invoice_id: string | null;
  stripe_subscription_id: string | null;
  stripe_customer_id: string | null;
  amount_cents: number;
  amount_refunded_cents: Generated<number>;
  currency: Generated<string>;
  status: 'pending' | 'succeeded' | 'failed' | 'refunded' | 'partially_refunded' | 'disputed';
  payment_type: 'subscription' | 'credit_topup' | 'one_time';
  description: string | null;
  failure_reason: string | null;
  paid_at: Timestamp | null;
  metadata: DefaultedJson;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

// ---- Content (0003) -------------------------------------------------------------------------

export type VideoSourceType = 'youtube' | 'upload' | 'url' | 'drive';
export type VideoProcessingStatus = 'pending' | 'processing' | 'transcribing' | 'analyzing' | 'ready' | 'completed' | 'failed' | 'canceled';
export type TranscriptSource =
  'youtube_captions' | 'youtube_auto_captions' | 'uploaded_srt' | 'uploaded_vtt' | 'uploaded_words' | 'manual' | 'speech_to_text';

export interface VideosTable {
  id: Generated<string>;
  user_id: string;
  workspace_id: string | null;
  source_type: VideoSourceType;
  source_url: string | null;
  youtube_video_id: string | null;
  title: string | null;
  description: string | null;
  channel_id: string | null;
  channel_title: string | null;
  duration_seconds: number | null;
  view_count: number | null;
  like_count: number | null;
  comment_count: number | null;
  tags: Generated<string[]>;
  category: string | null;
  language: string | null;
  thumbnail_url: string | null;
  published_at: Timestamp | null;
  transcript: string | null;
  transcript_source: TranscriptSource | null;
  transcript_segments: Json | null;
  processing_status: Generated<VideoProcessingStatus>;
  progress: Generated<number>;
  error_message: string | null;
  processed_at: Timestamp | null;
  file_path: string | null;
  media_url: string | null;
  file_size_bytes: number | null;
  mime_type: string | null;
  width: number | null;
  height: number | null;
  metadata: DefaultedJson;
  /** ClipFlow ingest (migration 0014): what speech-to-text heard, whether there is sound at all, when it ran. */
  language_detected: string | null;
  key_moments: Json | null;
  has_audio: boolean | null;
  processing_started_at: Timestamp | null;
  processing_completed_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface ContentTypesTable {
  id: Generated<string>;
  key: string;
  name: string;
  description: string | null;
  icon: string | null;
  requires_ai: Generated<boolean>;
  is_active: Generated<boolean>;
  sort_order: Generated<number>;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export type AiProvider = 'anthropic' | 'openai' | 'gemini';

export interface AiPromptsTable {
  id: Generated<string>;
  content_type_id: string;
  name: string;
  description: string | null;
  ai_provider: Generated<AiProvider>;
  model: string;
  system_prompt: string;
  user_prompt_template: string;
  temperature: DefaultNumeric;
  max_tokens: Generated<number>;
  version: Generated<number>;
  is_active: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export type VideoContentStatus = 'pending' | 'generating' | 'completed' | 'failed';

export interface VideoContentTable {
  id: Generated<string>;
  video_id: string;
  content_type_id: string;
  version: Generated<number>;
  parent_content_id: string | null;
  status: Generated<VideoContentStatus>;
  content: string | null;
  content_url: string | null;
  instructions: string | null;
  ai_provider: string | null;
  model: string | null;
  prompt_used_id: string | null;
  tokens_used: number | null;
  response_length: number | null;
  generation_started_at: Timestamp | null;
  generation_completed_at: Timestamp | null;
  generation_duration_ms: number | null;
  error_message: string | null;
  run_id: string | null;
  created_by_user_id: string | null;
  is_published: Generated<boolean>;
  user_rating: number | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export type CloudStorageProvider = 'google_drive' | 'onedrive' | 'dropbox';
export type ExportFormat = 'docx' | 'pdf' | 'txt' | 'md';
export type CredentialStatus = 'active' | 'expired' | 'revoked' | 'error';

export interface UserPreferencesTable {
  user_id: string;
  cloud_storage_provider: CloudStorageProvider | null;
  cloud_storage_auto_upload: Generated<boolean>;
  cloud_storage_upload_formats: Generated<ExportFormat[]>;
  cloud_storage_folder_per_video: Generated<boolean>;
  email_notifications: Generated<boolean>;
  language: Generated<string>;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface CloudStorageCredentialsTable {
  id: Generated<string>;
  user_id: string;
  provider: CloudStorageProvider;
  /** lib/secrets.ts envelope; AAD secretAad('cloud_storage_credentials', 'encrypted_tokens', id) */
  encrypted_tokens: string;
  token_expires_at: Timestamp | null;
  last_refreshed_at: Timestamp | null;
  scopes: Generated<string[]>;
  account_email: string | null;
  account_name: string | null;
  account_id: string | null;
  root_folder_id: string | null;
  root_folder_path: string | null;
  folder_naming_pattern: Generated<string>;
  status: Generated<CredentialStatus>;
  last_used_at: Timestamp | null;
  last_error: string | null;
  error_count: Generated<number>;
  /** The Google connection whose consent these tokens carry (0011); null for credentials stored before it. */
  google_connection_id: string | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface CloudStorageUploadsTable {
  id: Generated<string>;
  user_id: string;
  cloud_storage_credentials_id: string | null;
  video_id: string;
  video_content_id: string;
  provider: CloudStorageProvider;
  content_type: string;
  file_format: ExportFormat;
  file_name: string;
  file_size_bytes: number | null;
  cloud_file_id: string | null;
  cloud_file_url: string | null;
  cloud_folder_id: string | null;
  cloud_folder_path: string | null;
  status: Generated<'pending' | 'uploading' | 'completed' | 'failed' | 'canceled'>;
  error_message: string | null;
  retry_count: Generated<number>;
  max_retries: Generated<number>;
  started_at: Timestamp | null;
  completed_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface YoutubeOauthTokensTable {
  id: Generated<string>;
  user_id: string;
  channel_id: string;
  channel_name: string | null;
  channel_thumbnail: string | null;
  /** lib/secrets.ts envelope; AAD secretAad('youtube_oauth_tokens', 'encrypted_tokens', id) */
  encrypted_tokens: string;
  scope: string | null;
  token_type: string | null;
  token_expires_at: Timestamp | null;
  last_refreshed_at: Timestamp | null;
  last_used_at: Timestamp | null;
  status: Generated<CredentialStatus>;
  google_connection_id: string | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface UserYoutubeChannelsTable {
  id: Generated<string>;
  user_id: string;
  youtube_oauth_token_id: string | null;
  channel_id: string;
  channel_name: string | null;
  channel_handle: string | null;
  channel_description: string | null;
  channel_thumbnail: string | null;
  subscriber_count: number | null;
  video_count: Generated<number>;
  is_active: Generated<boolean>;
  is_primary: Generated<boolean>;
  auto_import: Generated<boolean>;
  last_synced_at: Timestamp | null;
  channel_data: Json | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export type GoogleService = 'youtube' | 'drive';
export type GoogleConnectionStatus = 'active' | 'expired';

/** One Google consent (0011): its tokens are in youtube_oauth_tokens / cloud_storage_credentials rows pointing here. */
export interface GoogleConnectionsTable {
  id: Generated<string>;
  user_id: string;
  services: GoogleService[];
  account_email: string | null;
  status: Generated<GoogleConnectionStatus>;
  status_reason: string | null;
  expiry_notified_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

// ---- Thumbnails (0004) ----------------------------------------------------------------------

export type ThumbnailAspectRatio = '16:9' | '9:16';

export interface ThumbnailStyleDesign {
  background: string;
  accent: string;
  text: string;
  stroke: string;
  fontWeight: 'bold' | 'black' | 'regular';
  textPosition: 'top' | 'center' | 'bottom' | 'left' | 'right';
  textCase: 'upper' | 'title';
}

export interface ThumbnailStylesTable {
  id: Generated<string>;
  key: string;
  name: string;
  description: string;
  design: DefaultedJson<ThumbnailStyleDesign>;
  sort_order: Generated<number>;
  is_active: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface ThumbnailExpressionsTable {
  id: Generated<string>;
  key: string;
  name: string;
  primary_emotion: string;
  face_details: string;
  eye_details: string;
  /** 1 subtle … 3 extreme */
  intensity: number;
  sort_order: Generated<number>;
  is_active: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface ThumbnailContentCategoriesTable {
  id: Generated<string>;
  key: string;
  name: string;
  description: string | null;
  sort_order: Generated<number>;
  is_active: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface ThumbnailTierLimitsTable {
  id: Generated<string>;
  subscription_tier: PlanSlug;
  iterations_16_9: Generated<number>;
  iterations_9_16: Generated<number>;
  is_unlimited: Generated<boolean>;
  reset_monthly: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface ThumbnailUsageTable {
  id: Generated<string>;
  user_id: string;
  aspect_ratio: ThumbnailAspectRatio;
  iterations_used: Generated<number>;
  iterations_reserved: Generated<number>;
  thumbnails_generated: Generated<number>;
  period_start: Timestamp;
  period_end: Timestamp | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface UserCharacterProfilesTable {
  id: Generated<string>;
  user_id: string;
  profile_name: Generated<string>;
  race_ethnicity: string | null;
  age_range: string | null;
  gender: string | null;
  face_shape: string | null;
  eye_description: string | null;
  hair_description: string | null;
  skin_tone: string | null;
  facial_hair: string | null;
  glasses_description: string | null;
  distinguishing_features: string | null;
  full_anchor_text: string | null;
  is_default: Generated<boolean>;
  is_active: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface ThumbnailReferenceImagesTable {
  id: Generated<string>;
  user_id: string;
  cloudinary_public_id: string;
  cloudinary_url: string;
  cloudinary_secure_url: string;
  original_filename: string | null;
  file_size_bytes: number | null;
  width: number | null;
  height: number | null;
  mime_type: string | null;
  display_name: string | null;
  is_default: Generated<boolean>;
  usage_count: Generated<number>;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export type ThumbnailJobStatus = 'pending' | 'processing' | 'completed' | 'completed_with_errors' | 'failed' | 'canceled';

export interface ThumbnailGenerationJobsTable {
  id: Generated<string>;
  video_id: string;
  user_id: string;
  topic: string;
  sub_topic: string | null;
  /** thumbnail_expressions.key */
  expression_category: string;
  aspect_ratio: ThumbnailAspectRatio;
  /** thumbnail_content_categories.key */
  content_category: string | null;
  /** thumbnail_styles.key values requested; empty = every active style */
  styles: Generated<string[]>;
  reference_image_ids: Generated<string[]>;
  character_profile_id: string | null;
  status: Generated<ThumbnailJobStatus>;
  progress: Generated<number>;
  current_style: string | null;
  thumbnails_requested: Generated<number>;
  thumbnails_generated: Generated<number>;
  error_message: string | null;
  retry_count: Generated<number>;
  run_id: string | null;
  started_at: Timestamp | null;
  completed_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface VideoThumbnailsTable {
  id: Generated<string>;
  video_id: string;
  user_id: string;
  job_id: string | null;
  cloudinary_public_id: string;
  cloudinary_url: string;
  cloudinary_secure_url: string;
  topic: string;
  sub_topic: string | null;
  expression_category: string;
  aspect_ratio: ThumbnailAspectRatio;
  style_name: string;
  content_category: string | null;
  overlay_text: string | null;
  layout: Json | null;
  file_size_bytes: number | null;
  width: number | null;
  height: number | null;
  format: Generated<'png' | 'jpg' | 'webp'>;
  is_selected: Generated<boolean>;
  is_uploaded_to_youtube: Generated<boolean>;
  generation_order: number;
  version: Generated<number>;
  refinement_instruction: string | null;
  parent_thumbnail_id: string | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

// ---- Clips and social (0005) ----------------------------------------------------------------

export type ClipAspectRatio = '9:16' | '1:1' | '16:9';
export type ClipSelectionMethod = 'model' | 'pause_windows';

export interface ClipsTable {
  id: Generated<string>;
  video_id: string;
  user_id: string;
  workspace_id: string | null;
  run_id: string;
  clip_index: number;
  title: string | null;
  description: string | null;
  start_time: number;
  end_time: number;
  duration_seconds: GeneratedAlways<number>;
  /** { "9:16": url, "16:9": url } */
  file_urls: DefaultedJson<Partial<Record<ClipAspectRatio, string>>>;
  thumbnail_url: string | null;
  virality_score: number | null;
  hook_score: number | null;
  engagement_score: number | null;
  topics: Generated<string[]>;
  emotions: Generated<string[]>;
  transcript_segment: string | null;
  has_captions: Generated<boolean>;
  caption_style: string | null;
  render_status: Generated<'pending' | 'rendering' | 'completed' | 'failed'>;
  render_error: string | null;
  /** Which path chose the clip (migration 0014); null on clips made before it. */
  selection_method: ClipSelectionMethod | null;
  status: Generated<'generated' | 'edited' | 'approved' | 'rejected' | 'published'>;
  approved_by: string | null;
  approved_at: Timestamp | null;
  rejection_reason: string | null;
  times_published: Generated<number>;
  deleted_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface CaptionWord {
  word: string;
  start: number;
  end: number;
  confidence?: number;
}

export interface CaptionsTable {
  id: Generated<string>;
  clip_id: string;
  language: Generated<string>;
  style: string;
  font_family: string | null;
  font_size: number | null;
  font_color: string | null;
  background_color: string | null;
  position: Generated<'top' | 'middle' | 'bottom'>;
  words: RequiredJson<CaptionWord[]>;
  srt: string | null;
  vtt: string | null;
  srt_url: string | null;
  vtt_url: string | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export type SocialPlatform = 'youtube' | 'instagram' | 'tiktok' | 'facebook' | 'linkedin' | 'twitter' | 'pinterest' | 'threads';
export type SocialAccountStatus = 'active' | 'expired' | 'revoked' | 'error' | 'disconnected';

/** A social account's platform: a network, or `ayrshare` (0017: its sealed token is the user's Ayrshare profile key). */
export type SocialAccountPlatform = SocialPlatform | 'ayrshare';

export interface SocialAccountsTable {
  id: Generated<string>;
  user_id: string;
  workspace_id: string | null;
  platform: SocialAccountPlatform;
  platform_user_id: string | null;
  username: string | null;
  display_name: string | null;
  profile_image_url: string | null;
  /** lib/secrets.ts envelope; AAD secretAad('social_accounts', 'encrypted_tokens', id) */
  encrypted_tokens: string;
  token_expires_at: Timestamp | null;
  scopes: Generated<string[]>;
  account_type: 'personal' | 'business' | 'creator' | null;
  follower_count: number | null;
  status: Generated<SocialAccountStatus>;
  last_error: string | null;
  last_sync_at: Timestamp | null;
  disconnected_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface SocialOauthStatesTable {
  id: Generated<string>;
  user_id: string;
  platform: SocialPlatform;
  /** SHA-256 hex of the one-time state handed to the client. */
  state_hash: string;
  redirect_uri: string;
  expires_at: Timestamp;
  used_at: Timestamp | null;
  created_at: CreatedAt;
  /** Which callback may spend the state (0011): a social account connect or a Google connection. */
  purpose: Generated<OAuthStatePurpose>;
  /** The Google services a google_connection flow asked for. */
  services: GoogleService[] | null;
}

export type OAuthStatePurpose = 'social_account' | 'google_connection';

export type PostStatus =
  'draft' | 'pending_approval' | 'scheduled' | 'publishing' | 'published' | 'partially_published' | 'failed' | 'canceled';

export interface PostsTable {
  id: Generated<string>;
  user_id: string;
  workspace_id: string | null;
  social_account_id: string;
  clip_id: string | null;
  caption: string | null;
  hashtags: Generated<string[]>;
  mentions: Generated<string[]>;
  media_urls: Generated<string[]>;
  media_type: 'video' | 'image' | 'carousel';
  thumbnail_url: string | null;
  platform_options: DefaultedJson;
  status: Generated<PostStatus>;
  scheduled_at: Timestamp | null;
  published_at: Timestamp | null;
  platform_post_id: string | null;
  platform_url: string | null;
  publish_error: string | null;
  retry_count: Generated<number>;
  needs_approval: Generated<boolean>;
  approved_by: string | null;
  approved_at: Timestamp | null;
  rejection_reason: string | null;
  last_metrics_sync_at: Timestamp | null;
  run_id: string | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export type PostTargetStatus = 'pending' | 'publishing' | 'published' | 'failed' | 'canceled';

/** One platform a post goes to (0017): published and retried on its own. */
export interface PostTargetsTable {
  id: Generated<string>;
  post_id: string;
  social_account_id: string;
  platform: Exclude<SocialPlatform, 'pinterest' | 'threads'>;
  /** 0 = the post's own account (posts.social_account_id). */
  position: number;
  status: Generated<PostTargetStatus>;
  platform_post_id: string | null;
  platform_url: string | null;
  ayrshare_post_id: string | null;
  error: string | null;
  attempts: Generated<number>;
  published_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

/** What the clean-up run did when a subscription ended (0017; the seed's table plus its natural key). */
export interface CancellationLogsTable {
  id: Generated<string>;
  user_id: string;
  cleanup_id: string;
  stripe_subscription_id: string | null;
  email: string | null;
  reason: string | null;
  feedback: string | null;
  cleanup_results: DefaultedJson;
  created_at: CreatedAt;
}

export interface PostMetricsTable {
  id: Generated<string>;
  post_id: string;
  checkpoint: string | null;
  recorded_at: Timestamp;
  views: Generated<number>;
  likes: Generated<number>;
  comments: Generated<number>;
  shares: Generated<number>;
  saves: Generated<number>;
  impressions: Generated<number>;
  reach: Generated<number>;
  watch_time_seconds: Generated<number>;
  avg_watch_percent: number | null;
  profile_visits: Generated<number>;
  follows: Generated<number>;
  link_clicks: Generated<number>;
  raw_data: Json | null;
  created_at: CreatedAt;
}

/** numeric: node-postgres returns a string to keep precision. */
export type Numeric = ColumnType<string, number | string, number | string>;

/** ClipFlow (0021): one row per social account and day, upserted by the account-sync run. */
export interface AccountAnalyticsTable {
  id: Generated<string>;
  social_account_id: string;
  /** `YYYY-MM-DD` (UTC day); written as a string. */
  date: DateColumn;
  followers: number | null;
  followers_gained: number | null;
  followers_lost: number | null;
  impressions: number | null;
  reach: number | null;
  engagement: number | null;
  total_views: number | null;
  total_likes: number | null;
  total_comments: number | null;
  total_shares: number | null;
  posts_published: number | null;
  engagement_rate: Numeric | null;
  demographics: Json | null;
  raw_data: Json | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export type CommentSentiment = 'positive' | 'negative' | 'neutral';

/** ClipFlow (0021): the comments inbox, polled from the user's recent posts. */
export interface CommentsTable {
  id: Generated<string>;
  post_id: string;
  social_account_id: string;
  platform_comment_id: string;
  platform_post_id: string;
  parent_comment_id: string | null;
  author_id: string | null;
  author_username: string | null;
  author_display_name: string | null;
  author_avatar_url: string | null;
  text: string;
  sentiment: CommentSentiment | null;
  sentiment_score: Numeric | null;
  is_read: Generated<boolean>;
  is_archived: Generated<boolean>;
  is_spam: Generated<boolean>;
  replied: Generated<boolean>;
  replied_by: string | null;
  replied_at: Timestamp | null;
  reply_text: string | null;
  reply_platform_id: string | null;
  posted_at: Timestamp;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

export interface PostingSchedulesTable {
  id: Generated<string>;
  user_id: string;
  social_account_id: string | null;
  /** IANA zone the days and times are read in */
  timezone: string;
  posting_days: Weekday[];
  /** 'HH:MM' or 'HH:MM:SS' on insert; node-postgres returns 'HH:MM:SS' */
  posting_times: string[];
  is_active: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

// ---- Affiliates (0006) ----------------------------------------------------------------------

export interface AffiliatesTable {
  id: Generated<string>;
  user_id: string;
  referral_code: string;
  /** basis points: 2000 = 20 % */
  commission_rate_bps: Generated<number>;
  currency: Generated<string>;
  stripe_connected_account_id: string | null;
  status: Generated<'pending' | 'active' | 'paused' | 'suspended'>;
  last_payout_at: Timestamp | null;
  metadata: DefaultedJson;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface AffiliateClicksTable {
  id: Generated<string>;
  affiliate_id: string;
  referral_code: string;
  ip_hash: string | null;
  user_agent: string | null;
  referrer_url: string | null;
  landing_page: string | null;
  utm_source: string | null;
  utm_medium: string | null;
  utm_campaign: string | null;
  utm_term: string | null;
  utm_content: string | null;
  country: string | null;
  device_type: Generated<'desktop' | 'mobile' | 'tablet' | 'bot' | 'unknown'>;
  converted: Generated<boolean>;
  converted_user_id: string | null;
  clicked_at: DefaultTimestamp;
}

export interface AffiliateReferralsTable {
  id: Generated<string>;
  affiliate_id: string;
  referred_user_id: string;
  referral_code: string;
  click_id: string | null;
  stripe_customer_id: string | null;
  stripe_subscription_id: string | null;
  status: Generated<'signed_up' | 'converted' | 'churned'>;
  referred_at: DefaultTimestamp;
  converted_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export type AffiliateCommissionStatus = 'pending' | 'eligible' | 'paid' | 'reversed';

export interface AffiliateCommissionsTable {
  id: Generated<string>;
  affiliate_id: string;
  referral_id: string | null;
  kind: Generated<'commission' | 'adjustment'>;
  stripe_invoice_id: string;
  stripe_charge_id: string | null;
  invoice_amount_cents: number;
  commission_rate_bps: number;
  /** >= 0 for a commission, < 0 for an adjustment */
  amount_cents: number;
  currency: Generated<string>;
  status: Generated<AffiliateCommissionStatus>;
  eligible_at: Timestamp;
  payout_id: string | null;
  paid_at: Timestamp | null;
  reversed_at: Timestamp | null;
  reversal_reason: string | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export type AffiliatePayoutStatus = 'pending' | 'processing' | 'paid' | 'failed' | 'canceled';

export interface AffiliatePayoutsTable {
  id: Generated<string>;
  affiliate_id: string;
  period_start: DateColumn;
  period_end: DateColumn;
  amount_cents: number;
  currency: Generated<string>;
  commission_count: Generated<number>;
  status: Generated<AffiliatePayoutStatus>;
  payout_method: Generated<string>;
  stripe_transfer_id: string | null;
  failure_reason: string | null;
  paid_at: Timestamp | null;
  run_id: string | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

// ---- Operations (0007) ----------------------------------------------------------------------

export interface AiUsageLogsTable {
  id: Generated<string>;
  user_id: string | null;
  run_id: string | null;
  provider: string;
  model: string;
  operation: string;
  input_tokens: Generated<number>;
  output_tokens: Generated<number>;
  /** integer micro-dollars */
  cost_micro_usd: Generated<number>;
  latency_ms: number | null;
  metadata: Json | null;
  created_at: CreatedAt;
}

export interface ContentPillarsTable {
  id: Generated<string>;
  user_id: string;
  pillar_order: number;
  pillar_name: string;
  description: string | null;
  example_subtopics: Generated<string[]>;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface CustomHooksTable {
  id: Generated<string>;
  user_id: string;
  sequence: number;
  hook_text: string;
  category: string | null;
  usage_count: Generated<number>;
  last_used_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export type ContentPlanStatus = 'queued' | 'running' | 'paused' | 'completed' | 'failed' | 'canceled';

export interface ContentGenerationJobsTable {
  id: Generated<string>;
  /** the run's workflow id */
  job_id: string;
  user_id: string;
  type: Generated<'monthly_plan'>;
  month: string;
  status: Generated<ContentPlanStatus>;
  total_posts: number;
  completed_posts: Generated<number>;
  failed_posts: Generated<number>;
  errors: DefaultedJson<Array<{ postIndex: number; type: string; message: string }>>;
  needs_approval: Generated<boolean>;
  review_window_days: number;
  paused_until: Timestamp | null;
  completed_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export type ContentQueueStatus = 'pending' | 'written' | 'scheduled' | 'failed';

export interface ContentGenerationQueueTable {
  id: Generated<string>;
  generation_job_id: string;
  user_id: string;
  month: string;
  total_posts: number;
  post_index: number;
  status: Generated<ContentQueueStatus>;
  priority: Generated<number>;
  pillar: string;
  hook: string;
  caption: string | null;
  hashtags: Generated<string[]>;
  visual_suggestion: string | null;
  post_id: string | null;
  scheduled_for: Timestamp | null;
  visible_after: Timestamp | null;
  error_message: string | null;
  error_count: Generated<number>;
  completed_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface AiUsageAnalyticsTable {
  id: Generated<string>;
  /** UTC day */
  date: DateColumn;
  user_id: string | null;
  provider: string;
  model: string;
  request_count: Generated<number>;
  input_tokens: Generated<number>;
  output_tokens: Generated<number>;
  total_tokens: Generated<number>;
  /** integer micro-dollars */
  cost_micro_usd: Generated<number>;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export type AiUsageAlertType = 'daily_tokens' | 'monthly_cost';

export interface AiUsageAlertsTable {
  id: Generated<string>;
  user_id: string;
  alert_type: AiUsageAlertType;
  threshold_percent: 80 | 100;
  period: string;
  message: string;
  threshold_value: number;
  actual_value: number;
  email_sent_at: Timestamp | null;
  acknowledged: Generated<boolean>;
  acknowledged_at: Timestamp | null;
  created_at: CreatedAt;
}

export interface ProviderQuotaUsageTable {
  id: Generated<string>;
  provider: string;
  project_key: string;
  period_date: DateColumn;
  units_used: Generated<number>;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface WebhooksTable {
  id: Generated<string>;
  user_id: string;
  workspace_id: string | null;
  url: string;
  /** lib/secrets.ts envelope; AAD secretAad('webhooks', 'encrypted_secret', id) */
  encrypted_secret: string;
  events: string[];
  is_active: Generated<boolean>;
  last_triggered_at: Timestamp | null;
  last_response_code: number | null;
  failure_count: Generated<number>;
  /** 0018 */
  description: string | null;
  /** The secret before the last rotation, still signing until previous_secret_expires_at; AAD secretAad('webhooks', 'previous_encrypted_secret', id) */
  previous_encrypted_secret: string | null;
  previous_secret_expires_at: Timestamp | null;
  disabled_reason: string | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

// ---- Outgoing webhooks: outbox and deliveries (0018) ----------------------------------------

export interface WebhookEventsTable {
  /** Derived from the fact (lib/webhook-events.ts), so a retried emit adds nothing. */
  id: string;
  user_id: string;
  type: string;
  data: RequiredJson;
  created_at: CreatedAt;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookDeliveriesTable {
  id: Generated<string>;
  event_id: string;
  webhook_id: string;
  status: Generated<WebhookDeliveryStatus>;
  dispatched_at: Timestamp | null;
  redeliveries: Generated<number>;
  attempt_offset: Generated<number>;
  last_response_code: number | null;
  delivered_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface WebhookLogsTable {
  id: Generated<string>;
  webhook_id: string;
  event_type: string;
  event_id: string;
  attempt: Generated<number>;
  request_body: RequiredJson;
  response_code: number | null;
  response_body: string | null;
  response_time_ms: number | null;
  success: boolean;
  error: string | null;
  created_at: CreatedAt;
}

// ---- Provider jobs (0012) -------------------------------------------------------------------

/** A provider job's status; `submitting` until the provider's job id is known. */
export type ProviderJobRowStatus = 'submitting' | 'queued' | 'processing' | 'succeeded' | 'failed' | 'canceled';

export interface ProviderJobsTable {
  id: Generated<string>;
  provider: string;
  idempotency_key: string;
  provider_job_id: string | null;
  workflow_id: string;
  kind: string;
  status: Generated<ProviderJobRowStatus>;
  progress: number | null;
  eta: Timestamp | null;
  error: string | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface ProviderWebhookDeliveriesTable {
  id: Generated<string>;
  provider: string;
  delivery_id: string;
  provider_job_id: string | null;
  status: string | null;
  received_at: CreatedAt;
}

// ---- SSELFIE: trainings, models, generations (0013) -----------------------------------------

export type TrainingStatus = 'pending' | 'training' | 'completed' | 'failed' | 'canceled';
export type ImageGenerationStatus = 'pending' | 'generating' | 'completed' | 'partial' | 'failed' | 'canceled';
export type AiImageStatus = 'pending' | 'generating' | 'completed' | 'failed';

export interface TrainingRunsTable {
  id: string;
  user_id: string;
  model_name: string;
  trigger_word: string;
  training_status: Generated<TrainingStatus>;
  training_progress: Generated<number>;
  estimated_completion_time: Timestamp | null;
  failure_reason: string | null;
  replicate_model_id: string | null;
  training_id: string | null;
  replicate_version_id: string | null;
  lora_weights_url: string | null;
  credits_cost: number;
  started_at: Timestamp | null;
  completed_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface SelfieUploadsTable {
  id: Generated<string>;
  user_id: string;
  training_run_id: string;
  position: number;
  image_url: string;
  media_key: string;
  content_type: string;
  bytes: number;
  uploaded_at: CreatedAt;
}

export interface UserModelsTable {
  id: Generated<string>;
  user_id: string;
  training_run_id: string;
  model_name: string;
  trigger_word: string;
  is_active: Generated<boolean>;
  created_at: CreatedAt;
}

export interface ImageGenerationsTable {
  id: string;
  user_id: string;
  training_run_id: string;
  prompt: string;
  style: string | null;
  image_count: number;
  status: Generated<ImageGenerationStatus>;
  failure_reason: string | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface AiImagesTable {
  id: Generated<string>;
  user_id: string;
  generation_id: string;
  position: number;
  prompt: string;
  style: string | null;
  seed: number;
  prediction_id: string | null;
  generation_status: Generated<AiImageStatus>;
  image_url: string | null;
  media_key: string | null;
  failure_reason: string | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

// ---- SSELFIE: pro photoshoots and animations (migration 0019) ----
export type PhotoshootStatus = 'pending' | 'generating' | 'completed' | 'partially_completed' | 'failed' | 'canceled';
export type PhotoshootGridStatus = 'pending' | 'generating' | 'completed' | 'failed';
export type GeneratedVideoStatus = 'pending' | 'generating' | 'completed' | 'failed' | 'canceled';

export interface ProPhotoshootSessionsTable {
  id: string;
  user_id: string;
  training_run_id: string;
  grid_count: number;
  credits_per_grid: number;
  status: Generated<PhotoshootStatus>;
  failure_reason: string | null;
  completed_at: Date | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface ProPhotoshootGridsTable {
  id: Generated<string>;
  session_id: string;
  position: number;
  style: string;
  seed: number;
  prediction_id: string | null;
  status: Generated<PhotoshootGridStatus>;
  grid_image_url: string | null;
  media_key: string | null;
  failure_reason: string | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface ProPhotoshootFramesTable {
  id: Generated<string>;
  grid_id: string;
  session_id: string;
  position: number;
  image_url: string;
  media_key: string;
  width: number;
  height: number;
  created_at: CreatedAt;
}

export interface GeneratedVideosTable {
  id: string;
  user_id: string;
  image_id: string;
  motion: string | null;
  credits_cost: number;
  prediction_id: string | null;
  status: Generated<GeneratedVideoStatus>;
  video_url: string | null;
  media_key: string | null;
  bytes: number | null;
  failure_reason: string | null;
  completed_at: Date | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

// ---- EcomVideo AI: products, product videos, credit lots, notifications (migration 0015) ----
export type ScrapingStatus = 'Pending' | 'Scraping' | 'Success' | 'Failed';
export type ScrapeFailureReason = 'blocked_by_robots' | 'not_a_product' | 'timeout' | 'fetch_failed';
export type ProductVideoStatus = 'Pending' | 'GeneratingImage' | 'GeneratingVideo' | 'Completed' | 'Failed';
export type CreditLotSource = 'subscription' | 'purchase' | 'bonus' | 'refund' | 'adjustment' | 'legacy';

/** Per-domain scraping settings: CSS selectors overriding JSON-LD/OG fields, extra headers, the delay between requests. */
export interface ScrapingRulesTable {
  id: Generated<string>;
  domain: string;
  platform: Generated<string>;
  selectors: DefaultedJson<Record<string, string>>;
  headers: Json<Record<string, string>> | null;
  delay_ms: Generated<number>;
  is_active: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface ScrapeDomainSlotsTable {
  domain: string;
  next_allowed_at: Timestamp;
}

export interface ProductDataTable {
  id: Generated<string>;
  user_id: string;
  original_url: string;
  domain: string;
  platform: string | null;
  product_id: string | null;
  name: string | null;
  description: string | null;
  price: string | null;
  currency: string | null;
  brand: string | null;
  sku: string | null;
  availability: string | null;
  main_image_url: string | null;
  scraping_status: Generated<ScrapingStatus>;
  failure_reason: ScrapeFailureReason | null;
  error_message: string | null;
  scraped_at: Timestamp | null;
  metadata: Json<Record<string, unknown>> | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface ProductImagesTable {
  id: Generated<string>;
  product_data_id: string;
  source_url: string;
  url: string;
  storage_key: string;
  content_type: string;
  alt_text: string | null;
  width: number | null;
  height: number | null;
  file_size_bytes: number;
  is_primary: Generated<boolean>;
  sort_order: number;
  created_at: CreatedAt;
}

export interface ProductVideosTable {
  id: Generated<string>;
  user_id: string;
  product_data_id: string;
  status: Generated<ProductVideoStatus>;
  progress: Generated<number>;
  style: string | null;
  aspect_ratio: '9:16' | '1:1' | '16:9';
  duration_seconds: 5 | 10;
  text_prompt: string;
  overlay_text: string | null;
  ai_provider: Generated<string>;
  freepik_image_task_id: string | null;
  freepik_task_id: string | null;
  image_url: string | null;
  video_url: string | null;
  file_size_bytes: number | null;
  generation_cost_credits: number;
  credits_state: Generated<'none' | 'reserved' | 'committed' | 'refunded'>;
  error_message: string | null;
  completed_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

/** A grant of credits with its own expiry; debits draw from the soonest-expiring live lot first. */
export interface CreditLotsTable {
  id: Generated<string>;
  user_id: string;
  source_transaction_id: string | null;
  source: CreditLotSource;
  amount: number;
  remaining: number;
  expires_at: Timestamp | null;
  expired_at: Timestamp | null;
  created_at: CreatedAt;
}

/** How much of which lot one debit took, so its refund can put it back. */
export interface CreditLotUsagesTable {
  transaction_id: string;
  lot_id: string;
  amount: number;
}

export interface NotificationSettingsTable {
  user_id: string;
  video_completed: Generated<boolean>;
  video_failed: Generated<boolean>;
  subscription_renewal: Generated<boolean>;
  /** 0021: a connected social account lost its authorization (revoked). */
  social_account_revoked: Generated<boolean>;
  email_enabled: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface NotificationDeliveriesTable {
  dedupe_key: string;
  user_id: string;
  kind: string;
  status: 'sent' | 'skipped';
  provider_message_id: string | null;
  created_at: CreatedAt;
}

/** One counted fact of a tenant's usage (migration 0020): its key makes a repeated count a no-op. */
export type UsageKind =
  'content_generated' | 'clips_generated' | 'posts_published' | 'storage_bytes' | 'ffmpeg_cpu_seconds' | 'youtube_units';

export interface UsageEventsTable {
  id: Generated<string>;
  user_id: string | null;
  kind: UsageKind;
  fact_key: string;
  /** numeric: units of the kind (count, bytes, seconds) */
  quantity: ColumnType<string, number | string, number | string>;
  run_id: string | null;
  created_at: CreatedAt;
}

export interface Database {
  users: UsersTable;
  workspaces: WorkspacesTable;
  team_members: TeamMembersTable;
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  job_runs: JobRunsTable;
  idempotency_keys: IdempotencyKeysTable;
  subscription_plans: SubscriptionPlansTable;
  subscription_plan_features: SubscriptionPlanFeaturesTable;
  subscription_plan_prices: SubscriptionPlanPricesTable;
  credit_packs: CreditPacksTable;
  user_subscriptions: UserSubscriptionsTable;
  subscription_events: SubscriptionEventsTable;
  subscription_usage: SubscriptionUsageTable;
  subscription_plan_migrations: SubscriptionPlanMigrationsTable;
  admin_subscription_grants: AdminSubscriptionGrantsTable;
  user_credits: UserCreditsTable;
  credit_transactions: CreditTransactionsTable;
  payments: PaymentsTable;
  videos: VideosTable;
  content_types: ContentTypesTable;
  ai_prompts: AiPromptsTable;
  video_content: VideoContentTable;
  user_preferences: UserPreferencesTable;
  cloud_storage_credentials: CloudStorageCredentialsTable;
  cloud_storage_uploads: CloudStorageUploadsTable;
  youtube_oauth_tokens: YoutubeOauthTokensTable;
  user_youtube_channels: UserYoutubeChannelsTable;
  google_connections: GoogleConnectionsTable;
  thumbnail_styles: ThumbnailStylesTable;
  thumbnail_expressions: ThumbnailExpressionsTable;
  thumbnail_content_categories: ThumbnailContentCategoriesTable;
  thumbnail_tier_limits: ThumbnailTierLimitsTable;
  thumbnail_usage: ThumbnailUsageTable;
  user_character_profiles: UserCharacterProfilesTable;
  thumbnail_reference_images: ThumbnailReferenceImagesTable;
  thumbnail_generation_jobs: ThumbnailGenerationJobsTable;
  video_thumbnails: VideoThumbnailsTable;
  clips: ClipsTable;
  captions: CaptionsTable;
  social_accounts: SocialAccountsTable;
  social_oauth_states: SocialOauthStatesTable;
  posts: PostsTable;
  post_targets: PostTargetsTable;
  cancellation_logs: CancellationLogsTable;
  post_metrics: PostMetricsTable;
  account_analytics: AccountAnalyticsTable;
  comments: CommentsTable;
  posting_schedules: PostingSchedulesTable;
  affiliates: AffiliatesTable;
  affiliate_clicks: AffiliateClicksTable;
  affiliate_referrals: AffiliateReferralsTable;
  affiliate_commissions: AffiliateCommissionsTable;
  affiliate_payouts: AffiliatePayoutsTable;
  ai_usage_logs: AiUsageLogsTable;
  ai_usage_analytics: AiUsageAnalyticsTable;
  ai_usage_alerts: AiUsageAlertsTable;
  content_pillars: ContentPillarsTable;
  custom_hooks: CustomHooksTable;
  content_generation_jobs: ContentGenerationJobsTable;
  content_generation_queue: ContentGenerationQueueTable;
  provider_quota_usage: ProviderQuotaUsageTable;
  provider_jobs: ProviderJobsTable;
  provider_webhook_deliveries: ProviderWebhookDeliveriesTable;
  training_runs: TrainingRunsTable;
  selfie_uploads: SelfieUploadsTable;
  user_models: UserModelsTable;
  image_generations: ImageGenerationsTable;
  ai_images: AiImagesTable;
  pro_photoshoot_sessions: ProPhotoshootSessionsTable;
  pro_photoshoot_grids: ProPhotoshootGridsTable;
  pro_photoshoot_frames: ProPhotoshootFramesTable;
  generated_videos: GeneratedVideosTable;
  webhooks: WebhooksTable;
  webhook_logs: WebhookLogsTable;
  webhook_events: WebhookEventsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  scraping_rules: ScrapingRulesTable;
  scrape_domain_slots: ScrapeDomainSlotsTable;
  product_data: ProductDataTable;
  product_images: ProductImagesTable;
  product_videos: ProductVideosTable;
  credit_lots: CreditLotsTable;
  credit_lot_usages: CreditLotUsagesTable;
  notification_settings: NotificationSettingsTable;
  notification_deliveries: NotificationDeliveriesTable;
  usage_events: UsageEventsTable;
}

export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type ApiKey = Selectable<ApiKeysTable>;
export type JobRun = Selectable<JobRunsTable>;
export type Webhook = Selectable<WebhooksTable>;
export type SubscriptionPlan = Selectable<SubscriptionPlansTable>;
export type SubscriptionPlanFeatures = Selectable<SubscriptionPlanFeaturesTable>;
export type CreditTransaction = Selectable<CreditTransactionsTable>;
export type Video = Selectable<VideosTable>;
export type ContentType = Selectable<ContentTypesTable>;
export type AiPrompt = Selectable<AiPromptsTable>;
export type VideoContent = Selectable<VideoContentTable>;
