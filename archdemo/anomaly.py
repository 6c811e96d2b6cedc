"""``python -m archdemo.anomaly --data-dir DIR``: rebuild the meter's scale (``archdemo.tools.calibration``)."""

from archdemo.tools.calibration import main

if __name__ == "__main__":
    main()
