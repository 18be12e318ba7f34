source "amazon-ebs" "vm" {
  ami_name = "x"
}
build {
  sources = ["source.amazon-ebs.vm"]
}
# expect: 1:1 | amazon-ebs
