source "qemu" "vm" {
  iso_url      = "http://example.com/x.iso"
  iso_checksum = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
  accelerator  = "tcg"
  communicator = "none"
  cpus         = "a" + 1
}
build {
  sources = ["source.qemu.vm"]
}
# expect: 6: | cpus
