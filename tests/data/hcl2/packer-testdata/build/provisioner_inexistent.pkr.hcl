# From hashicorp/packer v1.6.6, hcl2template/testdata/build/provisioner_inexistent.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/).

build {
    provisioner "inexistant" {
        foo = "bar"
    }
}
