from tests.commerce import fast_password_hashing, shopper, shopper_client  # noqa: F401  (fixtures)
