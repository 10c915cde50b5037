#!/bin/sh
# Temporal keeps its own two databases beside the platform's, owned by its own role, so the
# Temporal server never holds the platform database's password. Runs once, on a new volume.
set -eu
psql -v ON_ERROR_STOP=1 -v temporal_password="$TEMPORAL_DB_PASSWORD" --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE temporal LOGIN PASSWORD :'temporal_password';
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;
SQL
