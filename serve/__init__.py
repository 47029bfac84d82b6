"""Serving: one request is one pipeline (profile → score → re-rank → explain → render), in this package.

- snapshot.py: the model version a request reads, with its explanation index and catalogue, swapped whole;
- profile.py: the user's current profile and revisions, in one read;
- rerank.py: the ranked pool (maximal marginal relevance, the cold slot, items added after training);
- explaining.py: the explanation stage (kgrec.explain builds the explanations, this calls it);
- render.py: the JSON document;
- pipeline.py: RecommendationService, which runs the stages and the response cache;
- writes.py / reads.py: what the API writes (interactions, erasure) and reads besides recommendations.
"""
