source "qemu" "vm" {
  iso_url      = "http://example.com/x.iso"
  iso_checksum = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
  accelerator  = "tcg"
  communicator = "none"
  disk_sise    = "10G"
}
build {
  sources = ["source.qemu.vm"]
}
# expect: 6:3 | source "qemu" "vm" | Unsupported argument | An argument named "disk_sise" is not expected here. Did you mean "disk_size"?
