"""Installer media: ISO checksums, download and cache, floppy and CD images."""
