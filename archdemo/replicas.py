"""``python -m archdemo.replicas --replicas N``: N app processes behind nginx (see ``archdemo.deploy.replicas``)."""

import sys

from archdemo.deploy.replicas import main

if __name__ == "__main__":
    sys.exit(main())
