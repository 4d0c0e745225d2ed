"""The outbound guard's address policy and URL rules, without Django and without the network: host names are
resolved by a stand-in for ``socket.getaddrinfo`` (or are IP literals, which resolve locally)."""

from __future__ import annotations

import socket

import pytest

from digifit.outbound import OutboundRefused, address_problem, target_vet


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("169.254.169.254", "link-local"),
        ("10.0.0.1", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.254", "private"),
        ("192.168.1.1", "private"),
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "shared (CGNAT)"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("192.0.2.1", "reserved"),  # documentation
        ("198.18.0.1", "reserved"),  # benchmarking
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fe80::1%2", "link-local"),
        ("fd00::1", "private"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", "reserved"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
        ("::ffff:10.0.0.1", "private"),
        ("::127.0.0.1", "loopback"),  # the deprecated IPv4-compatible form
        ("::8.8.8.8", "reserved"),
        ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
        ("2002:a9fe:a9fe::1", "link-local"),  # 6to4 around 169.254.169.254
        ("64:ff9b::a00:1", "private"),  # NAT64 around 10.0.0.1
        ("93.184.216.34", None),
        ("8.8.8.8", None),
        ("172.32.0.1", None),  # just outside 172.16/12
        ("2606:4700:4700::1111", None),
        ("::ffff:93.184.216.34", None),
        ("64:ff9b::5db8:d822", None),  # DNS64's answer for a public IPv4 host
    ],
)
def test_address_policy(address, problem):
    assert address_problem(address) == problem


def _resolver(monkeypatch, answers: dict[str, list[str]]):
    """Make ``socket.getaddrinfo`` answer ``answers[host]`` for made-up names; count the lookups."""
    real = socket.getaddrinfo
    calls: list[str] = []

    def fake(host, port, *args, **kwargs):
        calls.append(host)
        if host in answers:
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in answers[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return calls


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "http://localhost/",
        "http://127.0.0.1:8000/hook",
        "http://[::1]/",
        "http://0.0.0.0/",
        "http://[::ffff:127.0.0.1]/",
        "http://2130706433/",  # 127.0.0.1 as one number
        "http://0x7f.1/",  # and in hex shorthand
    ],
)
def test_internal_targets_are_refused(url):
    with pytest.raises(OutboundRefused) as exc:
        target_vet(url)
    assert exc.value.code == "blocked" and exc.value.category in ("loopback", "private", "link-local", "unspecified")
    assert "only public addresses may be called" in str(exc.value)


def test_a_name_is_refused_when_any_of_its_addresses_is_internal(monkeypatch):
    _resolver(monkeypatch, {"mixed.example.test": ["93.184.216.34", "10.1.2.3"]})
    with pytest.raises(OutboundRefused, match=r"'mixed.example.test' resolves to 10.1.2.3, which is a private"):
        target_vet("https://mixed.example.test/hook")


def test_a_public_name_gives_its_addresses_host_and_path(monkeypatch):
    calls = _resolver(monkeypatch, {"hooks.example.test": ["93.184.216.34", "2606:4700:4700::1111"]})
    target = target_vet("https://hooks.example.test:8443/in?x=1#frag")
    assert target.addresses == ("93.184.216.34", "2606:4700:4700::1111")
    assert (target.scheme, target.host, target.port, target.path) == ("https", "hooks.example.test", 8443, "/in?x=1")
    assert target.host_header == "hooks.example.test:8443" and calls == ["hooks.example.test"]
    assert target_vet("http://hooks.example.test").host_header == "hooks.example.test"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://93.184.216.34/x", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://93.184.216.34/", "scheme"),
        ("http://user:pw@93.184.216.34/", "credentials"),
        ("http://user@93.184.216.34/", "credentials"),
        ("http:///nohost", "host"),
        ("http://93.184.216.34:99999/", "host"),
        ("http://93.184.216.34:0/", "host"),
        ("http://93.184.216.34/a b", "invalid"),
        ("http://93.184.216.34/\r\nX-Injected: 1", "invalid"),
        ("", "invalid"),
        ("http://nothing.invalid/", "unresolvable"),
    ],
)
def test_url_rules(url, code, monkeypatch):
    def no_such_host(host, *args, **kwargs):
        if host == "nothing.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (host, 80))]

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    with pytest.raises(OutboundRefused) as exc:
        target_vet(url)
    assert exc.value.code == code


def test_the_allow_list_names_hosts_or_networks(monkeypatch):
    _resolver(monkeypatch, {"hooks.intranet": ["10.20.0.5"], "other.intranet": ["10.30.0.5"]})
    assert target_vet("http://hooks.intranet/x", allowed=["HOOKS.intranet."]).addresses == ("10.20.0.5",)
    assert target_vet("http://other.intranet/x", allowed=["10.30.0.0/16"]).addresses == ("10.30.0.5",)
    assert target_vet("http://127.0.0.1:9/x", allowed=["127.0.0.1"]).addresses == ("127.0.0.1",)
    assert target_vet("http://[::1]:9/x", allowed=["[::1]"]).addresses == ("::1",)
    with pytest.raises(OutboundRefused):  # another name, another network
        target_vet("http://other.intranet/x", allowed=["hooks.intranet", "10.20.0.0/16"])
    with pytest.raises(OutboundRefused):  # an IPv4 entry does not allow an IPv6 address
        target_vet("http://[::1]:9/x", allowed=["127.0.0.1"])
    with pytest.raises(OutboundRefused) as exc:  # the allow-list never lets credentials through
        target_vet("http://u:p@127.0.0.1:9/x", allowed=["127.0.0.1"])
    assert exc.value.code == "credentials"
