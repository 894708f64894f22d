"""Files memman ships beside its code: assets/, hooks/, systemd/ and launchd/.

In a wheel they are data-only packages (``memman.assets`` and friends, see setup.py)
read through importlib.resources. In an editable checkout the import system cannot
see those mapped folders, so we fall back to the repository's top-level folder.
"""
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

FOLDERS = {
    "assets": "memman.assets",
    "hooks": "memman.hook_scripts",
    "systemd": "memman.systemd_units",
    "launchd": "memman.launchd_units",
}


def folder(kind: str) -> Traversable:
    """The shipped folder ``kind`` (one of FOLDERS)."""
    package = FOLDERS[kind]
    try:
        return resources.files(package)
    except ModuleNotFoundError:
        checkout = Path(__file__).resolve().parents[2] / kind
        if checkout.is_dir():
            return checkout
        raise


def read_text(kind: str, name: str) -> str:
    return folder(kind).joinpath(name).read_text(encoding="utf-8")
