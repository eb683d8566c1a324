"""How simulated shoppers are named and recognised, in the log, in orders and in accounts."""

import uuid

# The simulated shoppers' visitor ids are derived from their keys ("sim-<seed>-<n>") in this namespace, so that the
# same seed gives the same visitors.
NAMESPACE = uuid.UUID("6f1c3f0e-9a53-4c1e-9d0b-5a1e6b0c5e17")
# The e-mail domain of simulated orders and of the accounts the HTTP driver signs up (.invalid: never delivered).
EMAIL_DOMAIN = "simulated.lookalike.invalid"
# The HTTP driver's requests carry this header (events.middleware.SYNTHETIC_HEADER) and user agent.
HEADER = ("X-Lookalike-Synthetic", "1")
USER_AGENT = "LookalikeShopperSimulator/1.0 (synthetic traffic; docs/simulation.md)"


def visitor_id(key: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, key)


def email(key: str) -> str:
    return f"{key}@{EMAIL_DOMAIN}"
