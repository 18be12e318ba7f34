variable "iso" {
  type = string
}
source "qemu" "vm" {
  iso_url      = "http://example.com/x.iso"
  iso_checksum = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
  accelerator  = "tcg"
  communicator = "none"
}
build {
  sources = ["source.qemu.vm"]
}
# expect: 1:1 | Unset variable "iso" | PKR_VAR_iso
