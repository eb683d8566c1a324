"""What shoppers do with their bags and wishlists, for whoever listens (the interaction log).

Each is sent once the change has been committed, with the request it came in (a Django ``HttpRequest``; ``None``
when no request caused it). The sender is the model: ``CartLine`` or ``WishlistItem``.
"""

from django.dispatch import Signal

# Units of a size went into a bag: kwargs ``request``, ``sku`` (shop.models.Sku), ``quantity`` (the units added, not
# the line's new total) and ``list_id``: the attribution id of the listing or recommendation the product was reached
# from (the product page's ``?lid=``), or None. Raising a line's quantity in the bag sends it too, with list_id None.
cart_line_added = Signal()

# Units of a size left a bag: kwargs ``request``, ``sku`` and ``quantity`` (the units removed). Sent when a line is
# removed or its quantity lowered; not when an order empties the bag (see orders.signals.order_placed).
cart_line_removed = Signal()

# A product was added to a wishlist (``added`` True) or taken off it (False): kwargs ``request``, ``product``,
# ``added``.
wishlist_changed = Signal()
