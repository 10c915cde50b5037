#!/bin/sh
# Creates the namespace and our search attributes; both steps tolerate "already exists".
set -u
temporal operator namespace describe --namespace default >/dev/null 2>&1 || temporal operator namespace create --namespace default --retention 7d
for attr in UserId JobType DomainId VideoId; do
  temporal operator search-attribute create --namespace default --name "$attr" --type Keyword 2>/dev/null || true
done
