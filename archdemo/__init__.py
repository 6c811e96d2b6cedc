"""archdemo: four classic neural architectures, each on the task it is made for.

The package is layered so that data flows one way:
``app.py -> ui -> tasks (digits, sentiment, answers) -> store (registry, hub) -> models``,
with ``guard`` around every model call and ``settings`` parsed once in ``app.py``.
Nothing here imports gradio, touches the network or loads weights at import time.
"""

__version__ = "0.1.0"
