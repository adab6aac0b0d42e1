"""The Enrichment Portal HTTP API from Python: standard library only, pandas where present.

    from enrichment_portal import Client
    ep = Client("http://127.0.0.1:5000", api_key=os.environ["EP_API_KEY"])
    people = ep.find_dataset("Telco customers")
    df = ep.read_dataset(people["id"])                # a pandas DataFrame
    for row in ep.iter_rows(people["id"]):            # or rows one by one (dicts), streamed
        ...

Reads stream JSON lines from ``GET /api/v1/datasets/{id}/data?format=jsonl``: rows arrive as they are read from the
lake, so :meth:`Client.iter_rows` and :meth:`Client.read_dataset` with ``chunksize`` use constant memory whatever the
dataset's size. Every refused request raises :class:`~enrichment_portal.errors.ApiError` (or a subclass) carrying the
API's problem details.
"""

import csv
import io
import json
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

from .errors import RunFailedError, error_for

try:  # pandas is optional: DataFrame methods need it, the rest does not.
    import pandas as _pd
except ImportError:  # pragma: no cover - exercised on machines without pandas
    _pd = None

SNAPSHOT_PREFIX = "Profile-Snapshot-Export-"
_USER_AGENT = "enrichment-portal-python/0.1"


def _require_pandas():
    if _pd is None:
        raise ImportError("pandas is needed for DataFrames (Debian: apt-get install python3-pandas); "
                          "iter_rows() works without it")
    return _pd


class Client:
    """A connection to one portal with one API key (the key decides the sandbox and the role).

    Args:
        base_url: the portal's address, e.g. ``http://127.0.0.1:5000``; default: the ``EP_BASE_URL`` environment variable.
        api_key: an API key (``ep_...``); default: the ``EP_API_KEY`` environment variable. Never put a key in a notebook.
        timeout: seconds to wait for a response to start (default 300).
    """

    def __init__(self, base_url=None, api_key=None, timeout=300):
        base_url = base_url or os.environ.get("EP_BASE_URL")
        api_key = api_key or os.environ.get("EP_API_KEY")
        if not base_url:
            raise ValueError("base_url is required (or set EP_BASE_URL)")
        if not api_key:
            raise ValueError("api_key is required (or set EP_API_KEY); create one under Admin > API keys")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    # ------------------------------------------------------------------ HTTP

    def _url(self, path, params=None):
        url = self.base_url + (path if path.startswith("/") else "/api/v1/" + path)
        if params:
            clean = {k: v for k, v in params.items() if v is not None}
            for k, v in list(clean.items()):
                if isinstance(v, bool):
                    clean[k] = "true" if v else "false"
                elif isinstance(v, (list, tuple)):
                    clean[k] = ",".join(str(x) for x in v)
            if clean:
                url += "?" + urllib.parse.urlencode(clean)
        return url

    def _open(self, method, path, params=None, body=None, headers=None):
        """Sends a request and returns the open response (the caller reads and closes it); raises ApiError on 4xx/5xx."""
        url = self._url(path, params)
        h = {"X-Api-Key": self.api_key, "User-Agent": _USER_AGENT, "Accept": "application/json"}
        data = None
        if body is not None:
            if isinstance(body, (dict, list)):
                data = json.dumps(body).encode("utf-8")
                h["Content-Type"] = "application/json"
            else:
                data = body
        h.update(headers or {})
        req = urllib.request.Request(url, data=data, headers=h, method=method)
        try:
            return urllib.request.urlopen(req, timeout=self.timeout)
        except urllib.error.HTTPError as e:
            text = ""
            try:
                text = e.read().decode("utf-8", "replace")
            finally:
                e.close()
            try:
                problem = json.loads(text) if text else {}
            except ValueError:
                problem = {}
            raise error_for(e.code, problem, method, url, text) from None

    def request(self, method, path, params=None, body=None, headers=None):
        """Any API call: ``path`` is ``/api/v1/...`` or relative to it (``"datasets"``); returns the parsed JSON (or None)."""
        with self._open(method, path, params, body, headers) as r:
            text = r.read().decode("utf-8")
        return json.loads(text) if text.strip() else None

    def get(self, path, **params):
        return self.request("GET", path, params)

    def post(self, path, body=None, **params):
        return self.request("POST", path, params, body if body is not None else {})

    def _pages(self, path, params=None, limit=200):
        params = dict(params or {})
        params["limit"] = limit
        while True:
            page = self.request("GET", path, params)
            for item in page.get("items", []):
                yield item
            cursor = page.get("nextCursor")
            if not cursor:
                return
            params["cursor"] = cursor

    # ------------------------------------------------------------- datasets

    def datasets(self, search=None, system=None, profile_enabled=None):
        """Every dataset of the sandbox (dicts: id, name, schemaId, recordCount, ...), all pages."""
        return list(self._pages("datasets", {"search": search, "system": system, "profileEnabled": profile_enabled}))

    def dataset(self, dataset_id):
        return self.get("datasets/" + _q(dataset_id))

    def find_dataset(self, name):
        """The dataset with this exact name (case-insensitive); NotFound-like LookupError when there is none."""
        for d in self.datasets(search=name):
            if d["name"].lower() == name.lower():
                return d
        raise LookupError("no dataset named %r in this sandbox" % name)

    def dataset_files(self, dataset_id):
        return self.get("datasets/%s/files" % _q(dataset_id))["items"]

    def schema(self, schema_id):
        return self.get("schemas/" + _q(schema_id))

    def create_schema(self, name, fields, cls="profile", enable_profile=False):
        s = self.post("schemas", {"name": name, "class": cls, "fields": fields})
        if enable_profile:
            self.post("schemas/%s/enable-profile" % _q(s["id"]))
        return s

    def create_dataset(self, name, schema_id, enable_profile=False):
        d = self.post("datasets", {"name": name, "schemaId": schema_id})
        if enable_profile:
            d = self.post("datasets/%s/enable-profile" % _q(d["id"]))
        return d

    # ---------------------------------------------------------------- reads

    def _stream_path(self, dataset_id):
        return "profiles/snapshot/data" if dataset_id is None else "datasets/%s/data" % _q(dataset_id)

    def iter_rows(self, dataset_id, columns=None, limit=None, offset=None):
        """The dataset's rows as dicts, streamed (JSON lines): memory stays constant however large the dataset is.

        ``dataset_id=None`` reads the newest profile snapshot. ``columns`` picks columns; ``offset``/``limit`` page.
        """
        params = {"format": "jsonl", "columns": columns, "limit": limit, "offset": offset}
        with self._open("GET", self._stream_path(dataset_id), params, headers={"Accept": "application/x-ndjson"}) as r:
            for line in r:
                if line.strip():
                    yield json.loads(line)

    def iter_csv(self, dataset_id, columns=None, limit=None, offset=None):
        """The rows as lists of text from the CSV representation (first the header), streamed.

        CSV is made for spreadsheets: a text cell starting with = + - @ comes with a leading ' (formula injection);
        ``iter_rows`` gives the exact values.
        """
        params = {"format": "csv", "columns": columns, "limit": limit, "offset": offset}
        with self._open("GET", self._stream_path(dataset_id), params, headers={"Accept": "text/csv"}) as r:
            for row in csv.reader(io.TextIOWrapper(r, encoding="utf-8", newline="")):
                yield row

    def download(self, dataset_id, path, fmt="parquet", columns=None):
        """Saves the dataset (or, with ``dataset_id=None``, the newest snapshot) to a file, streamed; returns the path."""
        with self._open("GET", self._stream_path(dataset_id), {"format": fmt, "columns": columns}) as r, open(path, "wb") as out:
            shutil.copyfileobj(r, out, 1 << 20)
        return path

    def read_dataset(self, dataset_id, columns=None, limit=None, offset=None, chunksize=None):
        """A pandas DataFrame of the dataset; with ``chunksize`` an iterator of DataFrames of at most that many rows."""
        return self._frames(self.iter_rows(dataset_id, columns, limit, offset), chunksize)

    def snapshot(self):
        """The newest profile snapshot: { datasetId, name, batchId, columns, files } (NotFoundError when none exists)."""
        return self.get("profiles/snapshot")

    def iter_snapshot_rows(self, columns=None, limit=None, offset=None):
        return self.iter_rows(None, columns, limit, offset)

    def read_snapshot(self, columns=None, limit=None, offset=None, chunksize=None):
        """The newest profile snapshot as a DataFrame (columns profileId, identity.<namespace>, attributes, insights)."""
        return self._frames(self.iter_rows(None, columns, limit, offset), chunksize)

    def export_snapshot(self, merge_policy_id=None, wait=True, timeout=600):
        """Writes a new profile snapshot now; returns the finished job (or the job id with ``wait=False``)."""
        job_id = self.post("profiles/snapshot", {"mergePolicyId": merge_policy_id} if merge_policy_id else {})["jobId"]
        return self.wait_job(job_id, timeout) if wait else job_id

    @staticmethod
    def _frames(rows, chunksize):
        pd = _require_pandas()
        if not chunksize:
            return pd.DataFrame.from_records(list(rows))

        def chunks():
            buf = []
            for row in rows:
                buf.append(row)
                if len(buf) >= chunksize:
                    yield pd.DataFrame.from_records(buf)
                    buf = []
            if buf:
                yield pd.DataFrame.from_records(buf)
        return chunks()

    # ---------------------------------------------------------------- query

    def query(self, sql, limit=1000):
        """Runs a read-only SQL query (tables are datasets by name, ``profile_snapshot`` the newest snapshot)."""
        return self.post("queries", {"sql": sql, "limit": limit})

    def query_df(self, sql, limit=1000):
        pd = _require_pandas()
        r = self.query(sql, limit)
        return pd.DataFrame(r["rows"], columns=[c["name"] for c in r["columns"]])

    # --------------------------------------------------------------- models

    def models(self, search=None):
        return list(self._pages("models", {"search": search}))

    def model(self, model_id):
        return self.get("models/" + _q(model_id))

    def create_model(self, name, recipe, dataset_id=None, snapshot=False, label=None, features=None, **extra):
        body = {"name": name, "recipe": recipe}
        if snapshot:
            body["source"] = {"snapshot": True}
        elif dataset_id:
            body["source"] = {"datasetId": dataset_id}
        if label is not None:
            body["label"] = label
        if features is not None:
            body["features"] = list(features)
        body.update(extra)
        return self.post("models", body)

    def train(self, model_id, wait=False, timeout=900):
        """Starts a training run; returns its id, or with ``wait=True`` the finished run (RunFailedError when it failed)."""
        run_id = self.post("models/%s/train" % _q(model_id))["runId"]
        return self.wait_training(run_id, timeout) if wait else run_id

    def training_run(self, run_id):
        return self.get("training-runs/" + _q(run_id))

    def wait_training(self, run_id, timeout=900, poll=0.5):
        return self._wait("training run", lambda: self.training_run(run_id), ("succeeded",), ("failed", "cancelled"), timeout, poll)

    def score(self, model_id, dataset_id=None, snapshot=False, wait=False, timeout=900):
        """Starts a scoring run (default target: the model's source); its id, or with ``wait=True`` the finished run."""
        target = {"snapshot": True} if snapshot else ({"datasetId": dataset_id} if dataset_id else None)
        run_id = self.post("models/%s/score" % _q(model_id), {"target": target} if target else {})["runId"]
        return self.wait_scoring(run_id, timeout) if wait else run_id

    def scoring_run(self, run_id):
        return self.get("scoring-runs/" + _q(run_id))

    def wait_scoring(self, run_id, timeout=900, poll=0.5):
        return self._wait("scoring run", lambda: self.scoring_run(run_id), ("succeeded",), ("failed", "cancelled"), timeout, poll)

    def predict(self, model_id, body):
        return self.post("models/%s/predict" % _q(model_id), body)

    # ------------------------------------------------------------- ingestion

    def upload_batch(self, dataset_id, data, filename=None, wait=True, timeout=900, **options):
        """Uploads a file (a path, a binary file object, bytes, or a pandas DataFrame sent as CSV) as a batch.

        ``options`` are the form fields of the upload (delimiter, errorThreshold, mapping (a dict), idempotencyKey, ...).
        Returns the finished batch (``wait=True``, RunFailedError when it failed) or the 202 answer.
        """
        fields = {k: (json.dumps(v) if isinstance(v, (dict, list)) else str(v)) for k, v in options.items() if v is not None}
        answer = self._multipart("datasets/%s/batches" % _q(dataset_id), fields, data, filename)
        return self.wait_batch(answer["id"], timeout) if wait else answer

    def batch(self, batch_id):
        return self.get("batches/" + _q(batch_id))

    def wait_batch(self, batch_id, timeout=900, poll=0.5):
        return self._wait("batch", lambda: self.batch(batch_id), ("success",), ("failed", "abandoned"), timeout, poll)

    def push_scores(self, name, data, identity_column, namespace, fields, model_version=None, scored_at_column=None,
                    wait=True, timeout=900, error_threshold=None):
        """Bring your own scores: every row of ``data`` becomes ``insights.<name>`` on the profile of its identity.

        Args:
            name: the insight's name (``insights.<name>``).
            data: a pandas DataFrame, an iterable of dicts, or a CSV path.
            identity_column: the column holding the person's identity, e.g. ``"identity.CRMID"`` or ``"customerId"``.
            namespace: that identity's namespace, e.g. ``"CRMID"``.
            fields: column -> insight field (``score``, ``value``, ``segment``, ``engagement``, ``top`` or a custom name).
        Returns the finished ingestion batch (or the 202 answer with ``wait=False``).
        """
        body = {"name": name, "identity": {"column": identity_column, "namespace": namespace}, "fields": dict(fields)}
        if model_version:
            body["modelVersion"] = model_version
        if scored_at_column:
            body["scoredAtColumn"] = scored_at_column
        if error_threshold is not None:
            body["errorThreshold"] = error_threshold
        columns = [identity_column] + list(fields) + ([scored_at_column] if scored_at_column else [])
        answer = self._multipart("insights/imports", {"import": json.dumps(body)}, data, "scores.csv", columns)
        return self.wait_batch(answer["batchId"], timeout) if wait else answer

    def profile(self, namespace, identity):
        """The merged profile of one identity (attributes, insights, segments)."""
        return self.get("profiles", namespace=namespace, id=identity)

    # ------------------------------------------------------------------ jobs

    def job(self, job_id):
        return self.get("jobs/" + _q(job_id))

    def wait_job(self, job_id, timeout=600, poll=0.5):
        return self._wait("job", lambda: self.job(job_id), ("succeeded",), ("failed", "cancelled"), timeout, poll)

    # --------------------------------------------------------------- helpers

    @staticmethod
    def _wait(kind, fetch, done, failed, timeout, poll):
        deadline = time.monotonic() + timeout
        while True:
            run = fetch()
            status = run.get("status")
            if status in done:
                return run
            if status in failed:
                raise RunFailedError(kind, run)
            if time.monotonic() > deadline:
                raise TimeoutError("%s %s still %s after %ss" % (kind, run.get("id"), status, timeout))
            time.sleep(poll)
            poll = min(poll * 1.5, 5.0)

    def _multipart(self, path, fields, data, filename=None, columns=None):
        """POSTs a multipart form with one file, spooled to a temporary file so large files are not held in memory."""
        boundary = "----ep" + uuid.uuid4().hex
        spool = tempfile.TemporaryFile()
        try:
            def w(text):
                spool.write(text.encode("utf-8"))
            for k, v in fields.items():
                w("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % (boundary, k, v))
            if isinstance(data, (str, os.PathLike)):
                filename = filename or os.path.basename(os.fspath(data))
            filename = filename or "upload.csv"
            w("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\nContent-Type: application/octet-stream\r\n\r\n"
              % (boundary, filename.replace('"', "_")))
            _write_file(spool, data, columns)
            w("\r\n--%s--\r\n" % boundary)
            size = spool.tell()
            spool.seek(0)
            return self.request("POST", path, body=spool, headers={
                "Content-Type": "multipart/form-data; boundary=" + boundary, "Content-Length": str(size)})
        finally:
            spool.close()


def _write_file(out, data, columns=None):
    """Writes the upload's bytes: a path or file object as is; a DataFrame or rows of dicts as CSV."""
    if isinstance(data, (str, os.PathLike)):
        with open(data, "rb") as f:
            shutil.copyfileobj(f, out, 1 << 20)
    elif isinstance(data, (bytes, bytearray)):
        out.write(data)
    elif hasattr(data, "read"):
        shutil.copyfileobj(data, out, 1 << 20)
    elif _pd is not None and isinstance(data, _pd.DataFrame):
        frame = data[columns] if columns else data
        text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        frame.to_csv(text, index=False, float_format="%.17g")
        text.detach()
    else:
        rows = iter(data)
        text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        first = next(rows, None)
        if first is not None:
            names = list(columns or first.keys())
            writer = csv.DictWriter(text, fieldnames=names, extrasaction="ignore", lineterminator="\n")
            writer.writeheader()
            writer.writerow(first)
            for row in rows:
                writer.writerow(row)
        text.detach()


def _q(segment):
    return urllib.parse.quote(str(segment), safe="")
