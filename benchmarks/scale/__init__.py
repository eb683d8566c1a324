"""The catalogue at scale: a separate PostgreSQL grown to a million products, its indexes and queries measured.

Run by ``benchmarks/catalogue_scale.py``; see ``reports/scale/README.md``.
"""
