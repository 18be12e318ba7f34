# From hashicorp/packer v1.6.6, hcl2template/testdata/variables/complicated/b.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/).
locals {
  name_prefix = "${var.name_prefix}"
  foo         = "${local.name_prefix}"
  bar         = local.name_prefix
}