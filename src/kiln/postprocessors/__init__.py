"""Post-processors: manifest, checksum, compress, shell-local."""
