"""Orders, for whoever listens (the interaction log)."""

from django.dispatch import Signal

# An order was placed (sent once it has been committed): kwargs ``request`` (the Django HttpRequest; None when no
# request placed it) and ``order`` (orders.models.Order, with its lines). The sender is ``Order``.
order_placed = Signal()
