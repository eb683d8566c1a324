from django.dispatch import Signal

# Sent with ``product_ids`` when products got a new or a changed image (import, admin).
# Receivers that act on it should wait for the transaction to commit.
product_images_changed = Signal()

# What shoppers see, for whoever keeps a log of it (the catalogue does not): each is sent with the ``request``.
# A product page was shown: ``product``.
product_viewed = Signal()
# A list of products was shown: ``list_id`` (its product links carry it, ``?lid=<list_id>&pos=<n>``), ``placement``
# (where: "listing", "search", "home: New arrivals"...), ``strategy`` (what chose and ordered them) and
# ``product_ids`` in the order shown.
products_listed = Signal()
# A search was run: ``query`` and the number of ``results``.
catalogue_searched = Signal()
