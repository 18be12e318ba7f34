source "qemu" "vm" {
  cpus = 2
# expect: 3:1 | Unclosed
