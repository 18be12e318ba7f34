# kiln's qemu copy of hashicorp/packer v1.6.6, hcl2template/testdata/sources/basic.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/):
# a "qemu" source with qemu options of each kind (string, number, bool, duration, map, list of lists).
source "qemu" "ubuntu-1204" {
  iso_url      = "http://example.com/x.iso"
  iso_checksum = "none"
  accelerator  = "tcg"
  vm_name          = "string"
  cpus             = 42
  headless         = true
  shutdown_timeout = "10s"
  http_content = {
    a = "b"
    c = "d"
  }
  floppy_files = [
    "a",
    "b",
    "c",
  ]
  qemuargs = [
    ["a","b"],
    ["c","d"]
  ]
}
