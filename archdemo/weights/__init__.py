"""Weights: the registry (the one table of models), loading from a folder or the Hub, the shared store, cards."""
