"""Provisioners: shell, file, shell-local, breakpoint."""
