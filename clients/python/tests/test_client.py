"""The client against a real portal: EP_BASE_URL and EP_API_KEY (an admin or data-scientist key of an empty sandbox is fine).

    EP_BASE_URL=http://127.0.0.1:5000 EP_API_KEY=ep_... /usr/bin/python3 -m unittest discover -s clients/python/tests -v

Skipped when the variables are unset. The .NET test PythonClientTests starts a portal on a loopback port and runs this.
"""

import os
import random
import sys
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from enrichment_portal import Client, NotFoundError, ValidationError  # noqa: E402

try:
    import pandas as pd
except ImportError:  # pragma: no cover
    pd = None

BASE = os.environ.get("EP_BASE_URL")
KEY = os.environ.get("EP_API_KEY")
ROWS = 300


def people_rows(tag):
    """Deterministic customers whose churn depends on tenure and plan (so a model has something to learn)."""
    rng = random.Random(16)
    rows = []
    for i in range(1, ROWS + 1):
        tenure = rng.randint(1, 72)
        plan = rng.choice(["basic", "plus", "pro"])
        charges = round(20 + rng.random() * 80, 2)
        p = 0.75 if tenure < 12 else 0.35 if plan == "basic" else 0.1
        rows.append({"customerId": "C-%s-%d" % (tag, i), "email": "p%d.%s@example.com" % (i, tag), "tenure": tenure,
                     "plan": plan, "monthlyCharges": charges, "churned": "yes" if rng.random() < p else "no",
                     "note": 'says "hi", then, leaves' if i == 1 else ""})
    return rows


@unittest.skipUnless(BASE and KEY, "EP_BASE_URL and EP_API_KEY are not set (PythonClientTests in Web.Tests sets them)")
class ClientTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ep = Client(BASE, KEY)
        cls.tag = uuid.uuid4().hex[:8]
        cls.rows = people_rows(cls.tag)
        schema = cls.ep.create_schema("py people " + cls.tag, [
            {"path": "customerId", "type": "string", "required": True, "identity": {"namespace": "CRMID", "primary": True}},
            {"path": "email", "type": "string", "identity": {"namespace": "Email"}},
            {"path": "tenure", "type": "integer"}, {"path": "plan", "type": "string"},
            {"path": "monthlyCharges", "type": "number"}, {"path": "churned", "type": "string"}, {"path": "note", "type": "string"},
        ], enable_profile=True)
        cls.dataset = cls.ep.create_dataset("py people " + cls.tag, schema["id"], enable_profile=True)
        # Rows of dicts are sent as CSV; the batch is waited for.
        cls.batch = cls.ep.upload_batch(cls.dataset["id"], cls.rows, filename="people.csv", idempotencyKey="py-" + cls.tag)

    def test_upload_then_list_and_find_the_dataset(self):
        self.assertEqual("success", self.batch["status"])
        self.assertEqual(ROWS, self.batch["recordsWritten"])
        names = [d["name"] for d in self.ep.datasets()]
        self.assertIn(self.dataset["name"], names)
        found = self.ep.find_dataset(self.dataset["name"].upper())
        self.assertEqual(self.dataset["id"], found["id"])
        self.assertEqual(ROWS, found["recordCount"])
        files = self.ep.dataset_files(self.dataset["id"])
        self.assertTrue(files and all(f["bytes"] > 0 for f in files), files)
        with self.assertRaises(LookupError):
            self.ep.find_dataset("no such dataset " + self.tag)

    def test_iter_rows_streams_every_row_with_types(self):
        got = list(self.ep.iter_rows(self.dataset["id"]))
        self.assertEqual(ROWS, len(got))
        by_id = {r["customerId"]: r for r in got}
        for want in self.rows:
            row = by_id[want["customerId"]]
            self.assertEqual(want["tenure"], row["tenure"])
            self.assertIsInstance(row["tenure"], int)
            self.assertAlmostEqual(want["monthlyCharges"], row["monthlyCharges"], places=9)
            self.assertEqual(want["churned"], row["churned"])
        self.assertEqual('says "hi", then, leaves', by_id["C-%s-1" % self.tag]["note"])
        # Paging and column choice.
        page = list(self.ep.iter_rows(self.dataset["id"], columns=["customerId", "tenure"], offset=10, limit=5))
        self.assertEqual(5, len(page))
        self.assertEqual({"customerId", "tenure"}, set(page[0]))
        self.assertEqual([r["customerId"] for r in got[10:15]], [r["customerId"] for r in page])

    def test_csv_representation_quotes_and_matches(self):
        rows = list(self.ep.iter_csv(self.dataset["id"], columns=["customerId", "note", "monthlyCharges"]))
        self.assertEqual(["customerId", "note", "monthlyCharges"], rows[0])
        self.assertEqual(ROWS + 1, len(rows))
        first = [r for r in rows[1:] if r[0] == "C-%s-1" % self.tag][0]
        self.assertEqual('says "hi", then, leaves', first[1])

    @unittest.skipIf(pd is None, "pandas is not installed (apt-get install python3-pandas)")
    def test_read_dataset_as_dataframe_and_in_chunks(self):
        df = self.ep.read_dataset(self.dataset["id"])
        self.assertEqual((ROWS, 7), df.shape)
        self.assertEqual(sum(r["tenure"] for r in self.rows), int(df["tenure"].sum()))
        chunks = list(self.ep.read_dataset(self.dataset["id"], chunksize=128))
        self.assertEqual([128, 128, ROWS - 256], [len(c) for c in chunks])

    def test_query(self):
        table = self.dataset["name"].lower().replace(" ", "_")
        r = self.ep.query("SELECT plan, count(*) AS n FROM %s GROUP BY plan ORDER BY plan" % table)
        counts = {row[0]: row[1] for row in r["rows"]}
        for plan in ("basic", "plus", "pro"):
            self.assertEqual(sum(1 for x in self.rows if x["plan"] == plan), counts[plan])
        if pd is not None:
            df = self.ep.query_df("SELECT count(*) AS n FROM %s" % table)
            self.assertEqual(ROWS, int(df["n"][0]))

    def test_errors_carry_problem_details(self):
        with self.assertRaises(NotFoundError) as nf:
            list(self.ep.iter_rows("ds_does_not_exist"))
        self.assertEqual(404, nf.exception.status)
        self.assertTrue(nf.exception.problem.get("title"), nf.exception.problem)
        with self.assertRaises(ValidationError) as bad:
            list(self.ep.iter_rows(self.dataset["id"], columns=["nope"]))
        self.assertEqual(422, bad.exception.status)
        self.assertIn("nope", str(bad.exception))
        with self.assertRaises(ValidationError) as fmt:
            self.ep.request("GET", "datasets/%s/data" % self.dataset["id"], {"format": "xlsx"})
        self.assertIn("format", fmt.exception.errors)
        with self.assertRaises(ValidationError) as sql:
            self.ep.query("DELETE FROM x")
        self.assertEqual(400, sql.exception.status)

    def test_train_score_and_push_own_scores_land_on_profiles(self):
        name = "py churn " + self.tag
        model = self.ep.create_model(name, "churn", dataset_id=self.dataset["id"],
                                     label={"field": "churned", "positive": "yes"}, features=["tenure", "plan", "monthlyCharges"])
        run = self.ep.train(model["id"], wait=True)
        self.assertEqual("succeeded", run["status"])
        self.assertGreater(run["metrics"]["auc"], 0.6, run["metrics"])
        scoring = self.ep.score(model["id"], wait=True)
        self.assertEqual(ROWS, scoring["rowsScored"])
        prof = self.ep.profile("CRMID", "C-%s-7" % self.tag)
        self.assertIn(name, prof["insights"])
        self.assertTrue(0 <= prof["insights"][name]["score"] <= 1)

        # Bring your own scores: a DataFrame computed here, keyed by the e-mail identity.
        own = "py own " + self.tag
        rows = [{"email": r["email"], "p": (i % 10) / 10.0, "band": "b%d" % (i % 3)} for i, r in enumerate(self.rows)]
        data = pd.DataFrame(rows) if pd is not None else rows
        batch = self.ep.push_scores(own, data, "email", "Email", {"p": "score", "band": "segment"}, model_version="py-test")
        self.assertEqual("success", batch["status"])
        self.assertEqual(ROWS, batch["recordsWritten"])
        prof = self.ep.profile("Email", self.rows[13]["email"])
        self.assertAlmostEqual(0.3, prof["insights"][own]["score"], places=9)
        self.assertEqual("b1", prof["insights"][own]["segment"])
        self.assertEqual("py-test", prof["insights"][own]["modelVersion"])

        with self.assertRaises(ValidationError) as bad:
            self.ep.push_scores(own, rows, "email", "Email", {"p": "modelVersion"})
        self.assertIn("modelVersion", str(bad.exception))

    def test_snapshot_export_and_read(self):
        job = self.ep.export_snapshot()
        self.assertEqual("succeeded", job["status"])
        snap = self.ep.snapshot()
        self.assertIn("profileId", snap["columns"])
        self.assertIn("identity.CRMID", snap["columns"])
        ids = {r["identity.CRMID"] for r in self.ep.iter_snapshot_rows(columns=["identity.CRMID", "tenure"])}
        self.assertTrue({r["customerId"] for r in self.rows} <= ids)
        if pd is not None:
            df = self.ep.read_snapshot(columns=["profileId", "identity.CRMID", "tenure"])
            mine = df[df["identity.CRMID"].str.startswith("C-%s-" % self.tag, na=False)]
            self.assertEqual(ROWS, len(mine))
        # Parquet download of the same data (for readers that have one).
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"), "ep-py-%s.parquet" % self.tag)
        try:
            self.ep.download(None, path)
            with open(path, "rb") as f:
                self.assertEqual(b"PAR1", f.read(4))
        finally:
            if os.path.exists(path):
                os.remove(path)


if __name__ == "__main__":
    unittest.main()
