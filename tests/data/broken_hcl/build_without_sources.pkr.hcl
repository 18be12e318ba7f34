source "qemu" "vm" {
  iso_url      = "http://example.com/x.iso"
  iso_checksum = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
  accelerator  = "tcg"
  communicator = "none"
}
build {
  name = "x"
}
# expect: 7:1 | sources
