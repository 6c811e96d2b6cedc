"""``python -m archdemo.publish --repo-id ORG/NAME``: push the bundled weights (see ``archdemo.tools.publish``)."""

from archdemo.tools.publish import main

if __name__ == "__main__":
    main()
