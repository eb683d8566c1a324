"""The REST API of the shopper's bag and wishlist (logged-in shoppers; a session needs its CSRF token)."""
