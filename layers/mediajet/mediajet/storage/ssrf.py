"""Address policy for input URLs: which hosts a job may make this machine connect to.

A job's input URL is chosen by whoever holds an API key, so without this policy the fetcher is a
proxy into the machine's own network (the cloud metadata service, databases on 10.x, admin ports on
127.0.0.1). The policy works on resolved addresses, never on host names: every spelling of an
address (integers, octal, hex, short forms, IPv4 inside IPv6) ends up as the same `ip_address`, and
the fetcher connects to exactly the address that was checked, so DNS rebinding gets no second
lookup to win.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from mediajet.errors import ProcessingError, TransientError

IPAddress = IPv4Address | IPv6Address

PUBLIC_ONLY = "only public internet addresses may be fetched"

# Instance metadata endpoints hand out cloud credentials: name them, so the message says why.
_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack
        "169.254.170.2",  # ECS task credentials
        "169.254.169.253",  # AWS VPC DNS
        "169.254.169.123",  # AWS time sync
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "fd00:ec2::253",  # AWS VPC DNS over IPv6
    )
)

# First match wins, so the specific classes come before the broad ones. The tables are explicit rather
# than left to `is_global`, whose answers differ between Python versions (3.11 calls 192.0.0.192 and
# 3fff::/20 global); `is_global` stays as the last word for anything the tables miss.
_V4_CLASSES: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(net), label)
    for net, label in (
        ("0.0.0.0/32", "unspecified"),
        ("0.0.0.0/8", "'this network' (0.0.0.0/8)"),
        ("127.0.0.0/8", "loopback"),
        ("10.0.0.0/8", "private"),
        ("172.16.0.0/12", "private"),
        ("192.168.0.0/16", "private"),
        ("169.254.0.0/16", "link-local"),
        ("100.64.0.0/10", "carrier-grade NAT"),
        ("192.0.0.0/24", "IETF protocol assignment"),
        ("192.0.2.0/24", "documentation"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("198.18.0.0/15", "benchmarking"),
        ("192.88.99.0/24", "6to4 relay anycast"),
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("240.0.0.0/4", "reserved"),
    )
)
_V6_CLASSES: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(net), label)
    for net, label in (
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("fc00::/7", "private (unique local)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
        ("64:ff9b:1::/48", "local-use NAT64"),
        ("100::/64", "discard-only"),
        ("2001::/32", "Teredo tunnel"),
        ("2001:db8::/32", "documentation"),
        ("3fff::/20", "documentation"),
        ("2001::/23", "IETF protocol assignment"),
        ("5f00::/16", "segment routing (SRv6)"),
        ("::/8", "reserved"),  # IPv4-compatible and IPv4-translated forms; mapped ones are decided above
    )
)
_V4_COMPAT = IPv6Network("::/96")
_NAT64 = IPv6Network("64:ff9b::/96")


def _article(phrase: str) -> str:
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def classify_address(ip: IPAddress | str) -> str | None:
    """Why `ip` may not be fetched, as a phrase ("a loopback address"), or None when it is public."""
    if isinstance(ip, str):
        ip = ipaddress.ip_address(ip)
    if isinstance(ip, IPv6Address) and ip.scope_id:
        ip = IPv6Address(int(ip))  # a zone id changes neither the class nor equality with our sets
    if ip in _METADATA:
        return "a cloud metadata address"
    if isinstance(ip, IPv4Address):
        for net, label in _V4_CLASSES:
            if ip in net:
                return _article(label + " address")
        if not ip.is_global:  # documentation, benchmarking, protocol assignments ...
            return "a reserved address"
        return None
    return _classify_v6(ip)


def _classify_v6(ip: IPv6Address) -> str | None:
    # IPv4 carried inside IPv6 reaches the IPv4 address, so the IPv4 policy decides.
    embedded: tuple[str, IPv4Address | None] | None = None
    if ip.ipv4_mapped is not None:
        embedded = ("IPv4-mapped", ip.ipv4_mapped)
    elif ip in _NAT64:
        embedded = ("NAT64", IPv4Address(int(ip) & 0xFFFFFFFF))
    elif ip.sixtofour is not None:
        embedded = ("6to4", ip.sixtofour)
    elif ip.teredo is not None:
        embedded = ("Teredo", ip.teredo[1])
    elif ip in _V4_COMPAT and int(ip) > 1:
        embedded = ("IPv4-compatible", IPv4Address(int(ip) & 0xFFFFFFFF))
    if embedded is not None:
        how, v4 = embedded
        inner = classify_address(v4) if v4 is not None else None
        if inner is not None:
            article = "an" if how.startswith("IPv4") else "a"
            return f"{article} {how} form of {v4}, {inner}"
        if how in ("IPv4-mapped", "NAT64", "6to4"):
            return None  # a public IPv4 address in a routable wrapper
        # Teredo and IPv4-compatible addresses: deprecated tunnels nobody serves media from.
    for net, label in _V6_CLASSES:
        if ip in net:
            return _article(label + " address")
    if not ip.is_global:
        return "a reserved address"
    return None


def check_address(ip: IPAddress | str, *, host: str | None = None) -> None:
    """Raise ProcessingError(kind="input_forbidden") unless `ip` is a public internet address.

    `host` is the name that resolved to `ip`; it goes into the message when it differs from `ip`.
    """
    address = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    reason = classify_address(address)
    if reason is None:
        return
    spelled = host.strip().removeprefix("[").removesuffix("]") if host else ""
    if spelled and parse_host(spelled) is None:
        message = f"the input host {spelled} resolves to {address}, {reason}; {PUBLIC_ONLY}"
    elif spelled and spelled != str(address):  # "0x7f.1": name the address it spells, so nobody has to decode it
        message = f"the input host {spelled} is the address {address}, {reason}; {PUBLIC_ONLY}"
    else:
        message = f"the input address {address} is {reason}; {PUBLIC_ONLY}"
    raise ProcessingError(message, kind="input_forbidden")


# Exactly what inet_aton(3) reads per part. Python's int() is looser (it takes "_", "+", blanks), and a
# looser parse would connect to an address for text the system resolver treats as a name.
_V4_PART = re.compile(r"0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*")
_MAX_V4_PART_CHARS = 40  # anything longer overflows 32 bits in every base; don't feed it to int()


def _parse_v4_part(text: str) -> int | None:
    """One part of an inet_aton address: decimal, 0-prefixed octal or 0x-prefixed hexadecimal."""
    if len(text) > _MAX_V4_PART_CHARS or not _V4_PART.fullmatch(text):
        return None
    if text[:2].lower() == "0x":
        return int(text, 16) if text[2:] else 0  # int() reads the 0x prefix itself
    if text[0] == "0":
        return int(text, 8)
    return int(text, 10)


def _parse_inet_aton(text: str) -> IPv4Address | None:
    """The forms inet_aton(3) accepts: a.b.c.d, a.b.c (c is 16 bits), a.b (b is 24 bits), a (32 bits),
    each part in decimal, octal or hex."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or not all(p.isascii() for p in parts):
        return None
    values = [_parse_v4_part(p) for p in parts]
    if any(v is None or v < 0 for v in values):
        return None
    *head, last = values
    if any(v > 0xFF for v in head) or last >= 1 << (8 * (5 - len(values))):  # type: ignore[operator]
        return None
    number = last
    for i, v in enumerate(head):
        number |= v << (8 * (3 - i))  # type: ignore[operator]
    return IPv4Address(number)


def parse_host(host: str) -> IPAddress | None:
    """The address a URL host spells literally, in any form the C library would accept, or None when
    the host is a name that needs resolving. Takes the host percent-decoded: an IPv6 zone id is
    "%eth0" here, not "%25eth0"; the zone is kept so a permitted link-local address stays reachable.
    """
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:
        try:
            return IPv6Address(text)
        except ValueError:
            return None
    text = text.removesuffix(".")  # "127.0.0.1." is the same address to a resolver that treats it as a name
    return _parse_inet_aton(text)


def resolve_host(host: str, port: int, *, check: bool = True) -> list[IPAddress]:
    """The addresses of `host`, in the resolver's order, without duplicates.

    With `check`, one forbidden address among them forbids the host: a name that resolves to both a
    public and a private address is how rebinding attacks hedge their bets.
    """
    literal = parse_host(host)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        addresses = _lookup(host, port)
    if check:
        for address in addresses:
            check_address(address, host=host)
    return addresses


def _lookup(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (UnicodeError, ValueError) as exc:  # ValueError: an embedded NUL
        raise ProcessingError(f"the input host {host!r} is not a valid host name", kind="invalid_input") from exc
    except socket.gaierror as exc:
        if exc.errno == socket.EAI_AGAIN:
            raise TransientError(f"could not resolve the input host {host}: temporary DNS failure",
                                 kind="input_unreachable") from exc
        raise ProcessingError(f"could not resolve the input host {host}: {exc.strerror or exc}",
                              kind="input_unreachable") from exc
    found: list[IPAddress] = []
    for family, _, _, _, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = ipaddress.ip_address(str(sockaddr[0]))
        if family == socket.AF_INET6 and len(sockaddr) >= 4 and sockaddr[3]:
            address = IPv6Address(f"{address}%{sockaddr[3]}")  # keep the scope so connect() can use it
        if address not in found:
            found.append(address)
    if not found:
        raise ProcessingError(f"could not resolve the input host {host}: no IPv4 or IPv6 address",
                              kind="input_unreachable")
    return found
