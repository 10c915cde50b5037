#!/bin/sh
# Creates the namespace and the platform's search attributes on a running Temporal server, through
# the `temporal` CLI at TEMPORAL_ADDRESS. The one setup script of both topologies: compose runs it
# in the admin-tools image, `npm run start:cluster` and the cluster tests with .tools/bin/temporal.
# Idempotent: what exists already is kept; anything else that fails stops the script.
set -eu
NAMESPACE=${TEMPORAL_NAMESPACE:-default}
# Keep in step with SEARCH_ATTRIBUTES in lib/search-attributes.ts (a unit test compares them).
SEARCH_ATTRIBUTES="UserId DomainId JobType VideoId"

temporal operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1 ||
  temporal operator namespace create --namespace "$NAMESPACE" --retention 7d
# A new namespace reaches the services' caches within seconds (system.namespaceCacheRefreshInterval).
tries=0
until existing=$(temporal operator search-attribute list --namespace "$NAMESPACE" 2>&1); do
  tries=$((tries + 1))
  [ "$tries" -lt 30 ] || { echo "$existing" >&2; exit 1; }
  sleep 1
done
for attr in $SEARCH_ATTRIBUTES; do
  echo "$existing" | grep -qw "$attr" ||
    temporal operator search-attribute create --namespace "$NAMESPACE" --name "$attr" --type Keyword
done
