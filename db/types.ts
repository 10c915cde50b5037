import type { ColumnType, Generated, Insertable, JSONColumnType, Selectable, Updateable } from 'kysely';

/**
 * Hand-written kysely types for the live schema; test/integration/db-schema.test.ts checks
 * every table and column here against information_schema so they cannot drift.
 */
export type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
export type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
export type Json<T = unknown> = ColumnType<T, T | string | undefined | null, T | string | null>;

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
  metadata: Generated<JSONColumnType<Record<string, unknown>, string | undefined, string>>;
  created_at: Generated<CreatedAt>;
  updated_at: Generated<Timestamp>;
}

export interface WorkspacesTable {
  id: Generated<string>;
  name: string;
  owner_id: string;
  created_at: Generated<CreatedAt>;
  updated_at: Generated<Timestamp>;
}

export interface TeamMembersTable {
  id: Generated<string>;
  workspace_id: string;
  user_id: string;
  role: Generated<'owner' | 'admin' | 'editor' | 'viewer'>;
  created_at: Generated<CreatedAt>;
  updated_at: Generated<Timestamp>;
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
  created_at: Generated<CreatedAt>;
  updated_at: Generated<Timestamp>;
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
  created_at: Generated<CreatedAt>;
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
  started_at: Generated<Timestamp>;
  closed_at: Timestamp | null;
  created_at: Generated<CreatedAt>;
  updated_at: Generated<Timestamp>;
}

export interface IdempotencyKeysTable {
  user_id: string;
  key: string;
  request_hash: string;
  response_status: number | null;
  response_body: Json | null;
  created_at: Generated<CreatedAt>;
}

export interface Database {
  users: UsersTable;
  workspaces: WorkspacesTable;
  team_members: TeamMembersTable;
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  job_runs: JobRunsTable;
  idempotency_keys: IdempotencyKeysTable;
}

export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type ApiKey = Selectable<ApiKeysTable>;
export type JobRun = Selectable<JobRunsTable>;
