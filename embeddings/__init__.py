"""Embeddings learned from the graph: PyKEEN knowledge-graph embeddings and a PyTorch Geometric GNN."""
