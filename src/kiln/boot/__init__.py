"""The boot command: parse Packer's `boot_command` language and type it over VNC or QMP.

`grammar.py` (the language), `keys.py` (keysyms), `typist.py` (timing), `drivers.py`
(the VNC and QMP keyboards), `rfb.py` (the VNC client).
"""
