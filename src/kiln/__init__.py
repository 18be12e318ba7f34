"""kiln: build QEMU/KVM machine images from Packer templates."""

__version__ = "0.1.0"

# The Packer version kiln behaves like; templates' `min_packer_version` and
# `{{ packer_version }}` compare against it.
PACKER_COMPAT_VERSION = "1.6.6"
