"""The REST API of personal recommendations: a route per strategy, each list with the id its clicks are credited to."""
