# From hashicorp/packer v1.6.6, hcl2template/testdata/variables/validation/invalid_default.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/).

variable "image_id" {
  type    = string
  default = "potato"
  validation {
    condition     = length(var.image_id) > 4 && substr(var.image_id, 0, 4) == "ami-"
    error_message = "The image_id value must be a valid AMI id, starting with \"ami-\"."
  }
}
