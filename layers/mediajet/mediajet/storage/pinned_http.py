"""HTTP connections that go to addresses decided in advance, never to a fresh DNS answer.

http.client connects with socket.create_connection(host), which resolves the name again: the
answer the address policy checked and the address the socket reaches could then differ (DNS
rebinding). These connections take the checked addresses and use the host name only where the
protocol needs it: the Host header, TLS SNI and certificate verification.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Sequence
from ipaddress import IPv6Address

from mediajet.storage.ssrf import IPAddress


def _sockaddr(address: IPAddress, port: int) -> tuple[int, tuple]:
    if isinstance(address, IPv6Address):
        scope = address.scope_id
        scope_index = 0
        if scope:
            # A numeric zone is an interface index already; a name needs the table lookup.
            scope_index = int(scope) if scope.isdigit() else socket.if_nametoindex(scope)
        plain = str(IPv6Address(int(address)))
        return socket.AF_INET6, (plain, port, 0, scope_index)
    return socket.AF_INET, (str(address), port)


def open_socket(addresses: Sequence[IPAddress], port: int, *, connect_timeout: float,
                read_timeout: float) -> tuple[socket.socket, IPAddress]:
    """A TCP socket connected to the first of `addresses` that answers, in order, and that address.

    The last connection error is raised when none answers. Numeric socket addresses only: connect()
    never consults the resolver.
    """
    last_error: OSError | None = None
    for address in addresses:
        try:
            family, sockaddr = _sockaddr(address, port)
        except OSError as exc:  # an unknown interface name in a zone id
            last_error = exc
            continue
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(connect_timeout)
            sock.connect(sockaddr)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(read_timeout)
            return sock, address
        except OSError as exc:
            sock.close()
            last_error = exc
    if last_error is None:
        raise OSError("no address to connect to")
    raise last_error


class PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP/1.1 connection to `host` whose socket goes to one of `addresses`."""

    def __init__(self, host: str, port: int, addresses: Sequence[IPAddress], *, connect_timeout: float,
                 read_timeout: float) -> None:
        super().__init__(host, port, timeout=connect_timeout)
        self.addresses = list(addresses)
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.connected_address: IPAddress | None = None

    def _open_pinned_socket(self) -> socket.socket:
        sock, self.connected_address = open_socket(self.addresses, self.port,
                                                   connect_timeout=self.connect_timeout,
                                                   read_timeout=self.read_timeout)
        return sock

    def connect(self) -> None:
        self.sock = self._open_pinned_socket()


class PinnedHTTPSConnection(PinnedHTTPConnection):
    """The TLS variant: the certificate is verified against `host`, which is also sent as SNI."""

    default_port = http.client.HTTPS_PORT

    def __init__(self, host: str, port: int, addresses: Sequence[IPAddress], *, connect_timeout: float,
                 read_timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(host, port, addresses, connect_timeout=connect_timeout, read_timeout=read_timeout)
        self.context = context

    def connect(self) -> None:
        sock = self._open_pinned_socket()
        try:
            sock.settimeout(self.connect_timeout)  # the handshake belongs to connecting
            tls = self.context.wrap_socket(sock, server_hostname=self.host)
            tls.settimeout(self.read_timeout)
        except BaseException:
            sock.close()
            raise
        self.sock = tls
