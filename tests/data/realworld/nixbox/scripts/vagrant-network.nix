# This file is overwritten by vagrant. See
# https://github.com/mitchellh/vagrant/blob/master/templates/guests/nixos/network.erb
{}
