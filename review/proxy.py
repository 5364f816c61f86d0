"""The client's address behind a reverse proxy, for the per-address login throttle and
the audit log.

Without trusted proxies (the default) the address is the TCP peer's and
X-Forwarded-For is ignored whatever it says: anyone can send that header, and an
attacker who could choose their address would get a fresh per-address budget with
every request. With trusted proxies (EXTRACTOR_TRUSTED_PROXIES, or `review
--trusted-proxy`: addresses or networks, comma-separated, e.g. `127.0.0.1,10.0.0.0/8`)
and a request whose peer is one of them, the client is the right-most address of
X-Forwarded-For that is not a trusted proxy: each proxy appends the address it got the
request from, so everything to the left of that is what the client itself sent and is
never believed. A header that is not a list of addresses leaves the peer's address.

This is a WSGI middleware around the Flask app (`create_app` installs it), so it works
the same under waitress, werkzeug or any other server; waitress's own trusted_proxy
options are not used (they take one proxy address, not a list of networks).
"""
from __future__ import annotations

import ipaddress
import os
from typing import Iterable, Optional, Union

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
ENV = 'EXTRACTOR_TRUSTED_PROXIES'


def parse_networks(spec: Union[str, Iterable[str], None]) -> list[Network]:
    """'127.0.0.1, 10.0.0.0/8' (or a list of such) -> networks; ValueError names a bad one."""
    if spec is None:
        return []
    items = spec.split(',') if isinstance(spec, str) else list(spec)
    out = []
    for item in items:
        item = item.strip()
        if not item:
            continue
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f'{ENV}: {item!r} is not an IP address or network') from None
    return out


def from_env() -> list[Network]:
    return parse_networks(os.environ.get(ENV, ''))


def _address(text: str) -> Optional[ipaddress._BaseAddress]:
    text = text.strip()
    if text.startswith('[') and ']' in text:             # [v6]:port
        text = text[1:text.index(']')]
    elif text.count(':') == 1:                            # v4:port
        text = text.split(':', 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


class ClientAddress:
    """Sets REMOTE_ADDR to the client's address as described above."""

    def __init__(self, app, trusted: list[Network]):
        self.app, self.trusted = app, list(trusted)

    def is_trusted(self, address) -> bool:
        return address is not None and any(address in network for network in self.trusted)

    def client(self, peer: Optional[str], forwarded: str) -> Optional[str]:
        here = _address(peer or '')
        if not self.trusted or not self.is_trusted(here) or not forwarded:
            return peer
        hops = [_address(h) for h in forwarded.split(',')]
        if not hops or any(h is None for h in hops) or len(hops) > 30:
            return peer
        for hop in reversed(hops):
            if not self.is_trusted(hop):
                return str(hop)
        return str(hops[0])          # every hop a proxy of ours: the first one is the client

    def __call__(self, environ, start_response):
        forwarded = environ.pop('HTTP_X_FORWARDED_FOR', '')
        environ['REMOTE_ADDR'] = self.client(environ.get('REMOTE_ADDR'), forwarded)
        return self.app(environ, start_response)
