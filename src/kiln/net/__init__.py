"""Networking helpers: port reservation in ranges and the HTTP server for the guest."""

from kiln.net.http_server import HttpRequestLog, HttpServer
from kiln.net.ports import PortError, ReservedPort, reserve_port

__all__ = ["HttpRequestLog", "HttpServer", "PortError", "ReservedPort", "reserve_port"]
