source "qemu" "vm" {
  iso_url      = "http://example.com/x.iso"
  iso_checksum = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
  accelerator  = "tcg"
  communicator = "none"
  headless     = "perhaps"
}
build {
  sources = ["source.qemu.vm"]
}
# expect: 6:18 | Incorrect attribute value type | Inappropriate value for attribute "headless": a bool is required.
