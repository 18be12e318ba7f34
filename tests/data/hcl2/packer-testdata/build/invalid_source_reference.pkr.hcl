# From hashicorp/packer v1.6.6, hcl2template/testdata/build/invalid_source_reference.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/).

build {
  sources = ["ami"]
}
