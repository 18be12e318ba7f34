# From hashicorp/packer v1.6.6, hcl2template/testdata/variables/set-foo-too-wee.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/).
foo = "wee"
