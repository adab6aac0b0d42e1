#!/usr/bin/env sh
# Folder import graph of src/Enrichment.Portal.Core and its cycles (see folder-deps.py).
exec python3 "$(dirname "$0")/folder-deps.py" "$@"
