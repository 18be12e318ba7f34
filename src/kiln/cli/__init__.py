"""The `kiln` command line: Packer's verbs and flags."""
