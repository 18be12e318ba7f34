{ ... }:
{
  # Enable guest additions.
  virtualisation.vmware.guest.enable = true;
}
