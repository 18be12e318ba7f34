# From hashicorp/packer v1.6.6, hcl2template/testdata/sources/duplicate.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/).

source "virtualbox-iso" "ubuntu-1204" {}
source "virtualbox-iso" "ubuntu-1204" {}
