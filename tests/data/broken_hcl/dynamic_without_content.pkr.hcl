source "qemu" "vm" {
  iso_url      = "http://example.com/x.iso"
  iso_checksum = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
  accelerator  = "tcg"
  communicator = "none"
}
build {
  sources = ["source.qemu.vm"]
  dynamic "provisioner" {
    for_each = [1]
  }
}
# expect: 9:3 | dynamic "provisioner"
