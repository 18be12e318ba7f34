variable "size" {
  default = "a"
  validation {
    condition     = length(var.size) > 3
    error_message = "too short"
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
# expect: 5:21 | Invalid validation error message | at least one full sentence
