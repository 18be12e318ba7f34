source "qemu" "vm" {
  iso_url      = "http://example.com/x.iso"
  iso_checksum = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
  accelerator  = "tcg"
  communicator = "none"
}
build {
  source "source.qemu.vm" {
    name    = "b"
    vm_nmae = "x"
  }
}
# expect: 10:5 | source "source.qemu.vm" | Unsupported argument | Did you mean "vm_name"?
