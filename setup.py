"""The wheel carries the project template (platformio.ini, firmware/, boards/, renode/) inside the package, as
harness/_project/: the repository keeps them at its top level, where PlatformIO users expect them, and this
build step maps them in (harness/places.py finds either). Everything else is in pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

PROJECT_ITEMS = ("platformio.ini", "firmware", "boards", "renode")
# build products and the toolchain links firmware/platform/platform.py makes on the build machine
SKIPPED = shutil.ignore_patterns(".pio", "__pycache__", "*.pyc", "bin")


class BuildPyWithProject(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):  # an editable install reads the checkout itself
            return
        here = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "harness" / "_project"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for item in PROJECT_ITEMS:
            source = here / item
            if source.is_dir():
                shutil.copytree(source, target / item, ignore=SKIPPED)
            else:
                shutil.copy2(source, target / item)


setup(cmdclass={"build_py": BuildPyWithProject})
