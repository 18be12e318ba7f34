# The HCL2 twin of template.json: the same build, written as Packer users write templates
# today. Build it from the repository's root:
#   kiln build examples/tiny/template.pkr.hcl
#   kiln build -var output_directory=/tmp/tiny examples/tiny/template.pkr.hcl

# (Packer 1.7+ templates also list `required_plugins { qemu = {...} }` here; kiln accepts
# it, Packer 1.6.6 does not, so this example leaves it out.)
packer {
  required_version = ">= 1.6.0"
}

variable "guest_dir" {
  type        = string
  default     = "./build/guest"
  description = "Where guest/build.py put the installer ISO and its SHA256SUMS."
}

variable "output_directory" {
  type    = string
  default = "build/tiny"
}

variable "root_password" {
  type      = string
  default   = "tiny-root-pw"
  sensitive = true
}

locals {
  iso = "${var.guest_dir}/tiny-installer.iso"
}

source "qemu" "tiny" {
  iso_url          = local.iso
  iso_checksum     = "file:${var.guest_dir}/SHA256SUMS"
  output_directory = var.output_directory
  vm_name          = "tiny.qcow2"
  format           = "qcow2"
  disk_size        = "256M"
  disk_interface   = "virtio"
  net_device       = "virtio-net"
  memory           = 512
  accelerator      = "tcg"
  headless         = true
  http_directory   = "examples/tiny/http"
  boot_wait        = "1s"
  boot_command     = ["<wait>install ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg<enter>"]
  ssh_username     = "root"
  ssh_password     = var.root_password
  ssh_timeout      = "5m"
  shutdown_command = "shutdown -P now"
}

build {
  sources = ["source.qemu.tiny"]

  provisioner "shell" {
    # `{{ .Vars }}` and `{{ .Path }}` are filled in by the provisioner as it runs, as in JSON.
    environment_vars = ["SOURCE_NAME=${source.name}"]
    execute_command  = "chmod +x {{ .Path }}; {{ .Vars }} sh '{{ .Path }}'"
    inline = [
      "echo \"provisioned by $PACKER_BUILDER_TYPE ($SOURCE_NAME) on $(hostname)\" > /root/provisioned",
      "cat /etc/kiln-marker /root/provisioned",
    ]
  }
}
