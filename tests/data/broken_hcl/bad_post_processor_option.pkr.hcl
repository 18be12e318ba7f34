source "qemu" "vm" {
  iso_url      = "http://example.com/x.iso"
  iso_checksum = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
  accelerator  = "tcg"
  communicator = "none"
}
build {
  sources = ["source.qemu.vm"]
  post-processor "checksum" {
    checksum_types = ["sha257"]
  }
}
# expect: 10:22 | post-processor "checksum" | sha257
