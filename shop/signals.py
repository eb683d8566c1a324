from django.dispatch import Signal

# Sent with ``product_ids`` when products got a new or a changed image (import, admin).
# Receivers that act on it should wait for the transaction to commit.
product_images_changed = Signal()
