"""Running many app processes behind nginx for a room (``python -m archdemo.replicas``)."""
