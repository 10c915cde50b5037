import type { Migration } from 'kysely';
import * as m0001 from './0001_core';
import * as m0002 from './0002_billing';
import * as m0003 from './0003_content';
import * as m0004 from './0004_thumbnails';
import * as m0005 from './0005_clips_social';
import * as m0006 from './0006_affiliates';
import * as m0007 from './0007_operations';
import * as m0008 from './0008_social_oauth';
import * as m0009 from './0009_credit_packs';
import * as m0010 from './0010_long_lived_runs';
import * as m0011 from './0011_google_connections';
import * as m0012 from './0012_provider_jobs';
import * as m0013 from './0013_sselfie';
import * as m0014 from './0014_video_ingest';
import * as m0015 from './0015_ecom_products';
import * as m0016 from './0016_content_plans';
import * as m0017 from './0017_post_targets';
import * as m0018 from './0018_outgoing_webhooks';
import * as m0019 from './0019_sselfie_photoshoots';
import * as m0020 from './0020_operations_usage';
import * as m0021 from './0021_account_insights';

/** Every migration, by name; names sort in the order they must run. */
export const migrations: Record<string, Migration> = {
  '0001_core': m0001,
  '0002_billing': m0002,
  '0003_content': m0003,
  '0004_thumbnails': m0004,
  '0005_clips_social': m0005,
  '0006_affiliates': m0006,
  '0007_operations': m0007,
  '0008_social_oauth': m0008,
  '0009_credit_packs': m0009,
  '0010_long_lived_runs': m0010,
  '0011_google_connections': m0011,
  '0012_provider_jobs': m0012,
  '0013_sselfie': m0013,
  '0014_video_ingest': m0014,
  '0015_ecom_products': m0015,
  '0016_content_plans': m0016,
  '0017_post_targets': m0017,
  '0018_outgoing_webhooks': m0018,
  '0019_sselfie_photoshoots': m0019,
  '0020_operations_usage': m0020,
  '0021_account_insights': m0021,
};
