variable "a" {
  default = "x"
}
variable "b" {
  default = var.a
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
# expect: 5:13 | Variables not allowed
