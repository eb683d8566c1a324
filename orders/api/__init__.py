"""The REST API of checkout and the shopper's orders (logged-in shoppers; a session needs its CSRF token)."""
