{ config, pkgs, ... }:

{
# Place here any custom configuration specific to your organisation (locale, ...)
# if you want it to be part of the packer base image to be used with vagrant.
}
