"""Ingest: build the knowledge graph from MovieLens-style folders or anyone's CSV files.

Sources are parsed in Python into plain row lists (:class:`kgrec.ingest.plan.Plan`), checked and
de-duplicated there (bad rows go to a rejects file), and written by :mod:`kgrec.ingest.writer` in
batched ``UNWIND … MERGE`` transactions that only send rows the graph does not already hold.
"""
