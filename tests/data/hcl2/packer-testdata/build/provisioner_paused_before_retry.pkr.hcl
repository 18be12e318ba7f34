# From hashicorp/packer v1.6.6, hcl2template/testdata/build/provisioner_paused_before_retry.pkr.hcl (MPL-2.0, https://mozilla.org/MPL/2.0/).

// starts resources to provision them.
build {
    sources = [
        "source.virtualbox-iso.ubuntu-1204"
    ]

    provisioner "shell" {
        pause_before = "10s"
        max_retries = 5
    }
}

source "virtualbox-iso" "ubuntu-1204" {
}