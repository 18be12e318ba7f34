# From hashicorp/packer v1.6.6, hcl2template/testdata/variables/duplicate_variables.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/).

variables  {
    boolean_value = false
}

variables  {
    boolean_value = true
}
