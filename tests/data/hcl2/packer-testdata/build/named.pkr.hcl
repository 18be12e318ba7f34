# From hashicorp/packer v1.6.6, hcl2template/testdata/build/named.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/).
build {
    name = "somebuild"

    sources = [
        "source.amazon-ebs.ubuntu-1604",
        "source.virtualbox-iso.ubuntu-1204",
    ]
}
