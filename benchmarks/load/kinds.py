"""The kinds of request the load suite makes: their names in locust's statistics and the report. No imports: the
locustfile (under locust's gevent) and the runner and tests (under Django) both read it."""

HOME = "home"
LISTING = "listing with filters"
SEARCH = "text search"
PRODUCT = "product page"
SHELVES = "product page's shelves"  # similar items and recommendations, which the browser asks for after the page
PHOTO_SEARCH = "photo search (API)"
LOG_IN = "log in"
CART_ADD = "cart add (API)"
CHECKOUT = "checkout (API, cash on delivery)"
KINDS = (HOME, LISTING, SEARCH, PRODUCT, SHELVES, PHOTO_SEARCH, LOG_IN, CART_ADD, CHECKOUT)
