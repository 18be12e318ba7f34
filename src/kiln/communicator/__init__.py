"""Talking to the machine being built: run commands, move files (SSH today).

`config.py` is the communicator's option table; `ssh.py` the SSH communicator.
"""
