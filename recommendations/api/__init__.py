"""The REST API of similar items and search by photo."""
