# From hashicorp/packer v1.6.6, hcl2template/testdata/variables/validation/valid_map/invalid_value.auto.pkrvars.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/).

image_metadata = {
  key: "value",
  something: { 
    foo: "woo",
  }
}
