#!/usr/bin/env bash
# Regenerates the catalog's migrations for both providers from the current model.
# Usage: scripts/regenerate-migrations.sh [Name]   (default: adds a migration named Name to both providers)
#        scripts/regenerate-migrations.sh --reset  (drops all migrations and creates one Initial per provider: pre-release only)
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet tool restore >/dev/null
name="${1:-Update}"
if [ "$name" = "--reset" ]; then
  rm -rf src/Enrichment.Portal.Core/Catalog/Migrations
  name=Initial
fi
for ctx in Sqlite Postgres; do
  dotnet ef migrations add "$name" --project src/Enrichment.Portal.Core --startup-project src/Enrichment.Portal.Core \
    --context "${ctx}CatalogDb" --output-dir "Catalog/Migrations/$ctx" --namespace "Enrichment.Portal.Core.Catalog.Migrations.$ctx"
done
# dotnet-ef places the model snapshot by namespace (src/Enrichment.Portal.Core/Enrichment/Portal/Core/...);
# keep it beside its migrations.
for ctx in Sqlite Postgres; do
  misplaced="src/Enrichment.Portal.Core/Enrichment/Portal/Core/Catalog/Migrations/$ctx/${ctx}CatalogDbModelSnapshot.cs"
  [ -f "$misplaced" ] && mv "$misplaced" "src/Enrichment.Portal.Core/Catalog/Migrations/$ctx/"
done
rm -rf src/Enrichment.Portal.Core/Enrichment
