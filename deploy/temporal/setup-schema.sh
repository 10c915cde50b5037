#!/bin/sh
# Applies Temporal's PostgreSQL schemas (idempotent: setup-schema -v 0.0 then update-schema). Compose
# runs it in the admin-tools image; `npm run start:cluster` and the cluster tests with the
# temporal-sql-tool and schema dir the install built (SCHEMA_DIR, PATH).
set -eu
SCHEMA_DIR=${SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}
for db in temporal temporal_visibility; do
  dir=$SCHEMA_DIR/temporal/versioned
  [ "$db" = temporal_visibility ] && dir=$SCHEMA_DIR/visibility/versioned
  temporal-sql-tool --plugin "$SQL_PLUGIN" --ep "$SQL_HOST" -p "$SQL_PORT" -u "$SQL_USER" --pw "$SQL_PASSWORD" --db "$db" setup-schema -v 0.0 || true
  temporal-sql-tool --plugin "$SQL_PLUGIN" --ep "$SQL_HOST" -p "$SQL_PORT" -u "$SQL_USER" --pw "$SQL_PASSWORD" --db "$db" update-schema -d "$dir"
done
