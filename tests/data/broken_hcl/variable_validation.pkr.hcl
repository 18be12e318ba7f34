variable "size" {
  type    = number
  default = 3
  validation {
    condition     = var.size > 10
    error_message = "The size must be more than 10."
  }
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
# expect: 1:1 | Invalid value for default variable | The size must be more than 10.
