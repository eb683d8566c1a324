"""The catalogue's REST API: products, filtered, searched and paginated as on the listing page."""
