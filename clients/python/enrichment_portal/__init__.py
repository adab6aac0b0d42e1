"""Enrichment Portal data access SDK: datasets, snapshots, queries, models, batches and scores over the HTTP API.

See clients/python/README.md.
"""

from .client import Client, SNAPSHOT_PREFIX
from .errors import ApiError, AuthError, NotFoundError, RunFailedError, ValidationError

__all__ = ["Client", "ApiError", "AuthError", "NotFoundError", "ValidationError", "RunFailedError", "SNAPSHOT_PREFIX"]
__version__ = "0.1.0"
