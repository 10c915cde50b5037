#!/bin/sh
# Applies Temporal's PostgreSQL schemas (idempotent: setup-schema -v 0.0 then update-schema).
set -eu
SCHEMA_DIR=/etc/temporal/schema/postgresql/v12
for db in temporal temporal_visibility; do
  dir=$SCHEMA_DIR/temporal/versioned
  [ "$db" = temporal_visibility ] && dir=$SCHEMA_DIR/visibility/versioned
  temporal-sql-tool --plugin "$SQL_PLUGIN" --ep "$SQL_HOST" -p "$SQL_PORT" -u "$SQL_USER" --pw "$SQL_PASSWORD" --db "$db" setup-schema -v 0.0 || true
  temporal-sql-tool --plugin "$SQL_PLUGIN" --ep "$SQL_HOST" -p "$SQL_PORT" -u "$SQL_USER" --pw "$SQL_PASSWORD" --db "$db" update-schema -d "$dir"
done
