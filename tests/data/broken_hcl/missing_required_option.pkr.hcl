source "qemu" "vm" {
  iso_url      = "http://example.com/x.iso"
  iso_checksum = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
  accelerator  = "tcg"
  communicator = "ssh"
  ssh_password = "x"
}
build {
  sources = ["source.qemu.vm"]
}
# expect: 1:1 | An ssh_username must be specified
