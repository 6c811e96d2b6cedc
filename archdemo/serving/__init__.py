"""Serving a crowd: the API's answers, with concurrent requests sharing one forward pass per model."""
