"""``python -m archdemo.evaluate --data-dir DIR --json``: the cards' numbers (see ``archdemo.tools.evaluate``)."""

from archdemo.tools.evaluate import main

if __name__ == "__main__":
    main()
