"""Offline quality measurements of the image models: leave-one-out retrieval, the index, photo search."""
