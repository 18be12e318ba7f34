"""Networking helpers: port reservation in ranges, the HTTP server for the guest, host
interface addresses."""
