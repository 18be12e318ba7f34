source "qemu" "vm" {
  iso_url      = "http://example.com/x.iso"
  iso_checksum = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
  accelerator  = "tcg"
  communicator = "none"
}
build {
  sources = ["source.qemu.vm"]
  provisioner "shell" {
    inlin = ["x"]
  }
}
# expect: 10:5 | provisioner "shell" | Unsupported argument | An argument named "inlin" is not expected here. Did you mean "inline"?
