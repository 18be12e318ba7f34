# From hashicorp/packer v1.6.6, hcl2template/testdata/build/provisioner_untyped.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/).

build {
    provision {
        foo = "bar"
    }
}
