"""Stand-in for ``google.colab.drive``: ``mount`` makes the mount point's ``MyDrive`` folder, as Colab shows it.

``COLAB_STAND_IN_DRIVE`` names the folder standing in for the student's Drive (a temporary folder in the tests);
the mount point becomes a link to it, so what is written there outlives the "session" like a real Drive.
"""

import os
from pathlib import Path

mounted: list[str] = []


def mount(mountpoint: str, force_remount: bool = False, timeout_ms: int = 120000, readonly: bool = False) -> None:
    drive = Path(os.environ.get("COLAB_STAND_IN_DRIVE") or Path(mountpoint).with_name("stand-in-drive"))
    (drive / "MyDrive").mkdir(parents=True, exist_ok=True)
    point = Path(mountpoint)
    if not point.exists():
        point.parent.mkdir(parents=True, exist_ok=True)
        point.symlink_to(drive, target_is_directory=True)
    mounted.append(str(point))
    print(f"Mounted at {mountpoint}")
