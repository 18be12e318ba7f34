# From hashicorp/packer v1.6.6, hcl2template/testdata/build/post-processor_inexistent.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/).

build {
    post-processor "inexistant" {
        foo = "bar"
    }
}
