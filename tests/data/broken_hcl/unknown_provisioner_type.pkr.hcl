source "qemu" "vm" {
  iso_url      = "http://example.com/x.iso"
  iso_checksum = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
  accelerator  = "tcg"
  communicator = "none"
}
build {
  sources = ["source.qemu.vm"]
  provisioner "ansibel" {
  }
}
# expect: 9:15 | Unknown provisioner type "ansibel" | did you mean "ansible"
