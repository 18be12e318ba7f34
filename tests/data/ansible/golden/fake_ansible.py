#!/usr/bin/env python3
"""Stands in for ansible-playbook and ansible-galaxy: records what it was given, then exits.

Writes $CAPTURE_DIR/<name>-<ns>.json: argv, cwd, environment, the inventory given with -i
(content and mode) and the private key file given with -e ansible_ssh_private_key_file=
(mode, first line, size; never the key). `--version` prints an ansible-core version line.
Exits with $FAKE_EXIT (default 0).
"""

import json
import os
import sys
import time

name = os.path.basename(sys.argv[0])
args = sys.argv[1:]
if args == ["--version"]:
    print("ansible-playbook [core 2.19.15]\n  config file = None")
    sys.exit(0)
record = {"args": args, "cwd": os.getcwd(), "env": dict(os.environ)}
if "-i" in args:
    inventory = args[args.index("-i") + 1]
    try:
        with open(inventory) as f:
            record["inventory"] = f.read()
        record["inventory_mode"] = oct(os.stat(inventory).st_mode & 0o777)
    except OSError as err:
        record["inventory_error"] = str(err)
for arg in args:
    if arg.startswith("ansible_ssh_private_key_file="):
        path = arg.split("=", 1)[1]
        try:
            with open(path) as f:
                data = f.read()
            record["key_file"] = {
                "mode": oct(os.stat(path).st_mode & 0o777),
                "first_line": data.splitlines()[0] if data else "",
                "size": len(data),
            }
        except OSError as err:
            record["key_file"] = {"error": str(err)}
capture = os.environ["CAPTURE_DIR"]
os.makedirs(capture, exist_ok=True)
with open(os.path.join(capture, f"{name}-{time.time_ns()}.json"), "w") as f:
    json.dump(record, f, indent=1)
print(f"fake {name} ran with {len(args)} arguments")
sys.exit(int(os.environ.get("FAKE_EXIT", "0")))
