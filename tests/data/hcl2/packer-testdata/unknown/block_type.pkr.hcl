# From hashicorp/packer v1.6.6, hcl2template/testdata/unknown/block_type.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/).

potato {
}
