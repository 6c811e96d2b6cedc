"""archdemo: four classic neural architectures, each on the task it is made for.

Folders are layers and data flows one way:
``app.py -> ui -> serving -> tasks -> (runtime, weights, inputs) -> models``; ``training`` and ``tools``
are commands run offline, ``deploy`` runs many app processes. At the top only what imports nothing of the
project (settings, errors, device, paths) and the thin entry points (``python -m archdemo.train`` ...).
Nothing below ``ui`` imports gradio; nothing touches the network or loads weights at import time.
"""

__version__ = "0.1.0"
