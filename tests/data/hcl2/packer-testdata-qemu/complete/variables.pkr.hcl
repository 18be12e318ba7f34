# kiln's qemu copy of hashicorp/packer v1.6.6, hcl2template/testdata/complete/variables.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/): unchanged.

variables {
    foo = "value"
    // my_secret = "foo"
    // image_name = "foo-image-{{user `my_secret`}}"
}

variable "image_id" {
  type = string
  default = "image-id-default"
}

variable "port" {
  type = number
  default = 42
}

variable "availability_zone_names" {
  type    = list(string)
  default = ["A", "B", "C"]
}

locals {
  feefoo = "${var.foo}_${var.image_id}"
}


locals {
  standard_tags = {
    Component   = "user-service"
    Environment = "production"
  }

  abc_map = [
    {id = "a"},
    {id = "b"},
    {id = "c"},
  ]
}
