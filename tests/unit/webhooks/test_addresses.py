"""The SSRF rules, against every address form, through the check itself and a stub resolver:
nothing here resolves a name or opens a connection."""

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.webhooks.addresses import (
    Address,
    AddressGuard,
    Refused,
    embedded_ipv4,
    forbidden,
    parse_networks,
)

INTERNAL = [
    "127.0.0.1",
    "127.255.255.254",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",  # noqa: S104 - an address refused, not bound
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.2.1",
    "198.18.0.1",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "fec0::1",
    "ff02::1",
    "2001:db8::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
]
PUBLIC = ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:93.184.216.34"]


@pytest.mark.parametrize("address", INTERNAL)
def test_internal_addresses_are_forbidden(address: str) -> None:
    assert forbidden(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_not(address: str) -> None:
    assert not forbidden(ipaddress.ip_address(address))


def test_an_allowed_network_admits_its_addresses_and_only_those() -> None:
    allowed = parse_networks("127.0.0.0/8, 10.20.0.0/16")
    assert not forbidden(ipaddress.ip_address("127.0.0.1"), allowed)
    assert not forbidden(ipaddress.ip_address("::ffff:127.0.0.1"), allowed)
    assert not forbidden(ipaddress.ip_address("10.20.3.4"), allowed)
    assert forbidden(ipaddress.ip_address("10.21.0.1"), allowed)
    assert forbidden(ipaddress.ip_address("::1"), allowed)


def test_ipv6_forms_that_carry_an_ipv4_address_are_judged_by_it() -> None:
    assert embedded_ipv4(ipaddress.IPv6Address("::ffff:10.1.2.3")) == ipaddress.IPv4Address(
        "10.1.2.3"
    )
    assert embedded_ipv4(ipaddress.IPv6Address("64:ff9b::0a01:0203")) == ipaddress.IPv4Address(
        "10.1.2.3"
    )


def stub(answers: dict[str, list[str]]) -> AddressGuard:
    async def resolve(host: str, port: int) -> list[Address]:
        if host not in answers:
            raise OSError("no such host")
        return [ipaddress.ip_address(address) for address in answers[host]]

    return AddressGuard(resolver=resolve)


@pytest.mark.parametrize("address", INTERNAL)
async def test_a_name_resolving_to_an_internal_address_is_refused(address: str) -> None:
    with pytest.raises(Refused) as refused:
        await stub({"hooks.example.org": [address]}).target("https://hooks.example.org/in")
    assert refused.value.code == "forbidden_address"


async def test_one_internal_address_among_public_ones_is_enough_to_refuse() -> None:
    guard = stub({"hooks.example.org": ["93.184.216.34", "10.0.0.1"]})
    with pytest.raises(Refused):
        await guard.target("https://hooks.example.org/in")


async def test_the_connection_goes_to_the_checked_address_with_the_name_kept() -> None:
    target = await stub({"hooks.example.org": ["93.184.216.34"]}).target(
        "https://hooks.example.org:8443/in?x=1"
    )
    assert str(target.url) == "https://93.184.216.34:8443/in?x=1"
    assert target.host == "hooks.example.org:8443"
    assert target.server_name == "hooks.example.org"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://hooks.example.org/in", "url_not_https"),
        ("ftp://hooks.example.org/in", "url_not_https"),
        ("https:///in", "invalid_url"),
        ("https://user:pw@hooks.example.org/in", "invalid_url"),
        ("https://nowhere.example.org/in", "unresolvable_host"),
        ("https://" + "a" * 2000 + ".org/", "url_too_long"),
    ],
)
async def test_urls_of_the_wrong_form_are_refused(url: str, code: str) -> None:
    with pytest.raises(Refused) as refused:
        await stub({"hooks.example.org": ["93.184.216.34"]}).target(url)
    assert refused.value.code == code


async def test_http_is_accepted_only_where_allowed() -> None:
    guard = AddressGuard(parse_networks("127.0.0.0/8"), allow_http=True)
    target = await guard.target("http://127.0.0.1:9/in")
    assert target.address == "127.0.0.1"
    assert target.server_name is None


@given(st.integers(0, 2**32 - 1))
def test_an_ipv4_address_is_judged_alike_in_each_ipv6_form_that_carries_it(number: int) -> None:
    v4 = ipaddress.IPv4Address(number)
    mapped = ipaddress.IPv6Address(f"::ffff:{v4}")
    nat64 = ipaddress.IPv6Address(int(ipaddress.IPv6Address("64:ff9b::")) | number)
    assert forbidden(mapped) == forbidden(v4)
    assert forbidden(nat64) == forbidden(v4)
    if forbidden(v4):
        six_to_four = ipaddress.IPv6Address((0x2002 << 112) | (number << 80) | 1)
        assert forbidden(six_to_four)
