//! Which addresses an API may reach: the classes of IP addresses the API Connector's guard
//! (`runtime::http`) and the compiler's host check tell apart.
//!
//! Every IPv4 spelling (`0x7f000001`, `2130706433`, `017700000001`, `127.1`) is already one
//! address once the URL is parsed (WHATWG URL parsing, the `url` crate); IPv6 forms that embed
//! an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64
//! `64:ff9b::/96`) are judged by the embedded address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What an address is, for the guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    /// Reachable by every API.
    Public,
    /// Loopback, private (RFC 1918, unique-local), link-local, CGNAT, unspecified, multicast
    /// or broadcast: only an API marked `internal` reaches it.
    Internal,
    /// A cloud-metadata service: no API reaches it.
    Metadata,
}

/// Cloud-metadata services on IPv4: AWS, GCP, Azure and others (169.254.169.254), the AWS ECS
/// task endpoint, Alibaba Cloud.
const METADATA_V4: [Ipv4Addr; 3] = [
    Ipv4Addr::new(169, 254, 169, 254),
    Ipv4Addr::new(169, 254, 170, 2),
    Ipv4Addr::new(100, 100, 100, 200),
];

/// AWS's IPv6 metadata service, `fd00:ec2::254`.
const METADATA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254);

/// The class of `ip`.
pub fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => classify_v4(v4),
            None => classify_v6(v6),
        },
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    if METADATA_V4.contains(&ip) {
        return AddressClass::Metadata;
    }
    let [a, b, ..] = ip.octets();
    let internal = ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // CGNAT, 100.64.0.0/10
        || a >= 240; // reserved
    if internal {
        AddressClass::Internal
    } else {
        AddressClass::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    if ip == METADATA_V6 {
        return AddressClass::Metadata;
    }
    let first = ip.segments()[0];
    let internal = ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique-local, fc00::/7
        || (first & 0xffc0) == 0xfe80 // link-local, fe80::/10
        || (first & 0xffc0) == 0xfec0; // site-local (deprecated), fec0::/10
    if internal {
        AddressClass::Internal
    } else {
        AddressClass::Public
    }
}

/// The IPv4 address inside an IPv4-mapped, IPv4-compatible or NAT64 IPv6 address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    let nat64 = s[..6] == [0x64, 0xff9b, 0, 0, 0, 0]; // 64:ff9b::/96
    let nat64_local = s[..3] == [0x64, 0xff9b, 1]; // 64:ff9b:1::/48
                                                   // `::a.b.c.d` (deprecated); `::` and `::1` are IPv6's own.
    let compatible = s[..6] == [0; 6] && u32::from(low) > 1;
    (nat64 || nat64_local || compatible).then_some(low)
}

/// The class of a host as written in a URL: an IP address, or a name that always means this
/// machine (`localhost`, `*.localhost`). Other names are judged when resolved.
pub fn classify_host(host: &url::Host<&str>) -> Option<AddressClass> {
    match host {
        url::Host::Ipv4(ip) => Some(classify(IpAddr::V4(*ip))),
        url::Host::Ipv6(ip) => Some(classify(IpAddr::V6(*ip))),
        url::Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            (name == "localhost" || name.ends_with(".localhost")).then_some(AddressClass::Internal)
        }
    }
}

/// Whether an API (marked `internal` or not) may reach an address of class `class`.
pub fn allowed(class: AddressClass, internal: bool) -> bool {
    match class {
        AddressClass::Public => true,
        AddressClass::Internal => internal,
        AddressClass::Metadata => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host_class(url: &str) -> Option<AddressClass> {
        let url = url::Url::parse(url).expect("a URL");
        classify_host(&url.host().expect("a host"))
    }

    #[test]
    fn every_spelling_of_loopback_is_internal() {
        for url in [
            "http://127.0.0.1/",
            "http://[::1]/",
            "http://0x7f000001/",
            "http://2130706433/",
            "http://017700000001/",
            "http://[::ffff:127.0.0.1]/",
            "http://[64:ff9b::7f00:1]/",
            "http://localhost/",
            "http://LOCALHOST./",
            "http://api.localhost/",
            "http://127.1/",
            "http://0/",
            "http://[::]/",
        ] {
            assert_eq!(host_class(url), Some(AddressClass::Internal), "{url}");
        }
    }

    #[test]
    fn private_ranges_are_internal_and_metadata_is_never_reachable() {
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.1.1",
            "100.64.0.1",
            "fd12::1",
            "fe80::1",
        ] {
            let ip: IpAddr = ip.parse().expect("an IP");
            assert_eq!(classify(ip), AddressClass::Internal, "{ip}");
        }
        for ip in ["169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254"] {
            let ip: IpAddr = ip.parse().expect("an IP");
            assert_eq!(classify(ip), AddressClass::Metadata, "{ip}");
            assert!(!allowed(classify(ip), true));
        }
        for ip in [
            "93.184.216.34",
            "2606:2800:220:1::1",
            "100.128.0.1",
            "172.32.0.1",
        ] {
            let ip: IpAddr = ip.parse().expect("an IP");
            assert_eq!(classify(ip), AddressClass::Public, "{ip}");
        }
        assert_eq!(host_class("https://api.example.test/"), None);
    }
}
