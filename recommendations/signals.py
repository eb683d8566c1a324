"""What the recommendations show shoppers, for whoever keeps a log of it; each is sent with the ``request``."""

from django.dispatch import Signal

# A list of recommended products was shown: ``list_id`` (its product links carry it, ``?lid=<list_id>&pos=<n>``),
# ``placement`` (where), ``strategy`` (what chose them) and ``product_ids`` in the order shown.
recommendations_shown = Signal()
# A photo was searched: ``list_id`` and ``product_ids`` of the results shown, in order.
photo_searched = Signal()
