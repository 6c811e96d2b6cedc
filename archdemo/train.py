"""``python -m archdemo.train NAME --data-dir DIR``: train one model (see ``archdemo.training.cli``)."""

from archdemo.training.cli import main

if __name__ == "__main__":
    main()
