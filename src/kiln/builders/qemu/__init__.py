"""Packer's `qemu` builder, re-implemented."""
