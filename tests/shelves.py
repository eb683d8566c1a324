"""A product page's shelves (similar items, recommendations) come after the page: the browser asks the page's URL
again with this header (static/shop/js/shelves.js), and so do the tests."""

SHELVES = {"X-Shelves": "1"}
