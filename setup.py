"""Maps the top-level shipped folders into the wheel as memman resource packages.

assets/, hooks/, systemd/ and launchd/ live at the top of the repository so people
find them, but must be importable with importlib.resources once installed; each is
declared as a data-only package under ``memman``.
"""
from setuptools import find_packages, setup

SHIPPED = {
    "memman.assets": "assets",
    "memman.hook_scripts": "hooks",
    "memman.systemd_units": "systemd",
    "memman.launchd_units": "launchd",
}

setup(
    packages=find_packages("src") + list(SHIPPED),
    package_dir={"": "src", **SHIPPED},
    package_data={name: ["*", "**/*"] for name in SHIPPED},
    include_package_data=True,
)
