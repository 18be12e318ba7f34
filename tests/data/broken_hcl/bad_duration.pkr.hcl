source "qemu" "vm" {
  iso_url      = "http://example.com/x.iso"
  iso_checksum = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
  accelerator  = "tcg"
  communicator = "none"
  boot_wait    = "ten seconds"
}
build {
  sources = ["source.qemu.vm"]
}
# expect: 6:18 | boot_wait
