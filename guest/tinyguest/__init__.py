"""The pieces of ``guest/build.py``: resolve Debian packages, unpack them, assemble the ISO.

Standard library only: this package runs before kiln (and its virtualenv) exists.
"""
