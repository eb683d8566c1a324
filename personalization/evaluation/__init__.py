"""The offline evaluation of the recommendation algorithms on simulated histories: a time-based split, ranking
metrics over the whole catalogue, several simulator seeds, and a report (``manage.py evaluate_personalization``)."""
