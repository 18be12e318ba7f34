# From hashicorp/packer v1.6.6, hcl2template/testdata/sources/unnamed.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/).
// a source represents a reusable setting for a system boot/start.
source "virtualbox-iso" {
    foo = "bar"
}