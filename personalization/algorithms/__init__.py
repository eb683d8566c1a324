"""Recommendation algorithms on arrays (no Django): fitted on an ``EventLog``, they score every product for a
shopper's history. The strategies serve them; the offline evaluation measures the very same code."""
