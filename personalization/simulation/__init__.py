"""The shopper simulator: seeded, metadata-driven histories for demos and the offline evaluation (SIMULATED data;
see docs/simulation.md). ``simulator`` and its helpers are pure numpy; ``writer`` and ``http_driver`` are not."""
