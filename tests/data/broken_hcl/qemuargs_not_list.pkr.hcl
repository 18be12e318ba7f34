source "qemu" "vm" {
  iso_url      = "http://example.com/x.iso"
  iso_checksum = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
  accelerator  = "tcg"
  communicator = "none"
  qemuargs     = "-m 512"
}
build {
  sources = ["source.qemu.vm"]
}
# expect: 6:18 | Incorrect attribute value type | Inappropriate value for attribute "qemuargs": list of list of string required.
