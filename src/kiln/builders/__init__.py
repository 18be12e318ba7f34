"""Builders kiln implements (only `qemu`)."""
