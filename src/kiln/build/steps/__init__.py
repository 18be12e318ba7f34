"""The build steps, each an async context manager: enter does the work, exit cleans up.

`STEPS` is the order Packer's qemu builder runs them in (reference §2).
"""
