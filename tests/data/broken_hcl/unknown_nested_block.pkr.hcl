source "qemu" "vm" {
  iso_url      = "http://example.com/x.iso"
  iso_checksum = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
  accelerator  = "tcg"
  communicator = "none"
  disk_block {
    size = 1
  }
}
build {
  sources = ["source.qemu.vm"]
}
# expect: 6:3 | source "qemu" "vm" | Unsupported block type | Blocks of type "disk_block" are not expected here.
