"""Go's formatting and parsing rules, as Packer's messages and templates show them:
`time.Duration` (`duration.py`), `strconv` (`strconv.py`), `fmt` (`fmt.py`).

The bottom layer: imported by options, template, boot, provisioners; imports nothing of kiln
but errors.
"""
