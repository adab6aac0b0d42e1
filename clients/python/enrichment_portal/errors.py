"""Errors raised by the client: every refused request carries the API's problem details (RFC 9457)."""

import json


class ApiError(Exception):
    """The portal answered with a 4xx or 5xx status.

    Attributes:
        status: the HTTP status code (404, 422, ...).
        title: the problem's title ("Not found", "Validation failed", ...).
        detail: the sentence for people, when the portal gave one.
        errors: field -> list of messages (validation problems), possibly empty.
        problem: the whole problem document as a dict (empty when the body was not JSON).
        method, url: the request that failed.
    """

    def __init__(self, status, problem, method, url, body_text=""):
        self.status = status
        self.problem = problem if isinstance(problem, dict) else {}
        self.title = self.problem.get("title") or ""
        self.detail = self.problem.get("detail") or ""
        self.errors = self.problem.get("errors") or {}
        self.method = method
        self.url = url
        text = self.detail or self.title or body_text.strip()[:300] or "no details"
        if self.errors:
            text += " " + json.dumps(self.errors, ensure_ascii=False)
        super().__init__("%s %s -> %d: %s" % (method, url, status, text))


class NotFoundError(ApiError):
    """404: no such object in the key's sandbox."""


class ValidationError(ApiError):
    """400 or 422: the request was malformed or broke a rule; see ``errors``."""


class AuthError(ApiError):
    """401 or 403: the key is missing, wrong, or lacks the role."""


class RunFailedError(Exception):
    """A training run, scoring run, batch or job ended in failure; ``run`` is its last state."""

    def __init__(self, kind, run):
        self.kind = kind
        self.run = run
        reason = run.get("error") or run.get("failureReason") or run.get("status")
        super().__init__("%s %s %s: %s" % (kind, run.get("id"), run.get("status"), reason))


def error_for(status, problem, method, url, body_text=""):
    if status == 404:
        cls = NotFoundError
    elif status in (400, 422):
        cls = ValidationError
    elif status in (401, 403):
        cls = AuthError
    else:
        cls = ApiError
    return cls(status, problem, method, url, body_text)
