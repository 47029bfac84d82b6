"""Embedding models learned from the graph: LightGCN (PyTorch Geometric) and KG embeddings (PyKEEN)."""
