# kiln's qemu copy of hashicorp/packer v1.6.6, hcl2template/testdata/build/post-processor_inexistent.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/):
# the build gets a qemu source, so only the "inexistant" type is wrong.
source "qemu" "ubuntu-1204" {
  communicator = "ssh"
  ssh_username = "packer"
  iso_url      = "http://example.com/x.iso"
  iso_checksum = "none"
  accelerator  = "tcg"
}

build {
    sources = ["source.qemu.ubuntu-1204"]

    post-processor "inexistant" {
        foo = "bar"
    }
}
