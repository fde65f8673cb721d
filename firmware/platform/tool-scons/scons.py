"""PlatformIO runs `python <tool-scons>/scons.py ...`; hand over to the pip-installed SCons."""
import sys

from SCons.Script.Main import main

if __name__ == "__main__":
    sys.exit(main())
