//! Interface capabilities (`netdev::Capabilities`) against veth pairs the test
//! creates: veth's xdp-features as they change with its peer's XDP state, no
//! zero-copy, NAPI instances once veth runs NAPI (and none linked to a queue), the programs attached (ours and a
//! foreign one) checked against `ip -d link`, and the failures they explain.
//! On a kernel without the netdev family (6.1 in tests/kernels) the call
//! still answers, with the netlink fields unknown.

mod common;

use common::{ip_in, VethPair};
use xsk_rs::features::Feature;
use xsk_rs::netdev::{Attached, Capabilities, XdpFeatures, XskFeatures};
use xsk_rs::socket::{Socket, SocketConfig, BIND_SG, BIND_ZEROCOPY};
use xsk_rs::umem::Umem;
use xsk_rs::xdp::{insn, Link, Program, Redirect, XdpMode};

fn umem() -> Umem {
    common::umem_4k(64)
}

/// A program that is not xsk_rs's: `XDP_PASS`, named `name`.
fn foreign_program(name: &str) -> Program {
    Program::load(&[insn::mov64_imm(insn::R0, 2), insn::exit()], name).expect("load a foreign XDP program")
}

/// `(mode token, id, name)` of each program `ip -d link show` reports:
/// lines like `prog/xdp id 42 name xsk_rs_redirect tag ...` after the mode
/// (`xdpgeneric`, `xdpdrv`, `xdpmulti`), one per attached program.
fn ip_link_programs(ns: &str, ifname: &str) -> Vec<(u32, String)> {
    let out = ip_in(ns, &["-d", "link", "show", "dev", ifname]);
    let words: Vec<&str> = out.split_whitespace().collect();
    let mut progs = Vec::new();
    for (i, w) in words.iter().enumerate() {
        if w.starts_with("prog/xdp") && words.get(i + 1) == Some(&"id") {
            let id = words[i + 2].parse().expect("a program id");
            let name = if words.get(i + 3) == Some(&"name") { words[i + 4].to_string() } else { String::new() };
            progs.push((id, name));
        }
    }
    progs
}

/// `ip -d link`'s numrxqueues / numtxqueues / mtu.
fn ip_link_number(ns: &str, ifname: &str, key: &str) -> u32 {
    let out = ip_in(ns, &["-d", "link", "show", "dev", ifname]);
    let words: Vec<&str> = out.split_whitespace().collect();
    let at = words.iter().position(|w| *w == key).unwrap_or_else(|| panic!("no {key} in {out}"));
    words[at + 1].parse().unwrap()
}

fn netlink_known() -> bool {
    Feature::NetdevNetlink.available().unwrap()
}

const VETH: XdpFeatures = XdpFeatures(XdpFeatures::BASIC.0 | XdpFeatures::REDIRECT.0 | XdpFeatures::RX_SG.0);
const VETH_PEER_DRV: XdpFeatures = XdpFeatures(VETH.0 | XdpFeatures::NDO_XMIT.0 | XdpFeatures::NDO_XMIT_SG.0);

#[test]
fn veth_features_follow_the_peers_xdp_mode() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::with_queues(2);
    let a = pair.if_a.clone();
    let b = pair.if_b.clone();
    let query_a = || pair.run_in_a(|| Capabilities::query(&a).unwrap());
    let query_b = || pair.run_in_b(|| Capabilities::query(&b).unwrap());

    if !netlink_known() {
        // Linux < 6.3: nothing to follow, and the call says so.
        let c = query_a();
        assert_eq!((c.xdp_features, c.xsk_features, &c.rx_napi_ids), (None, None, &None), "{c:?}");
        return;
    }
    // Nothing attached: veth does basic, redirect and rx-sg, never zero-copy,
    // and takes no redirected frames until its peer runs NAPI.
    let c = query_a();
    assert_eq!(c.xdp_features, Some(VETH), "{c:?}");
    assert!(!c.xdp_features.unwrap().contains(XdpFeatures::XSK_ZEROCOPY));
    assert_eq!(c.xdp_zc_max_segs, None, "the kernel reports it only for zero-copy devices");
    if Feature::NetdevQueues.available().unwrap() {
        assert_eq!(c.xsk_features, Some(XskFeatures(0)), "veth honours no TX metadata");
        assert_eq!(c.rx_napi_ids.as_deref(), Some(&[0, 0][..]), "no NAPI without XDP or GRO");
        assert_eq!(c.tx_napi_ids.as_deref(), Some(&[0, 0][..]));
    }
    assert_eq!((c.dev.rx_queues, c.dev.tx_queues, c.dev.mtu), (2, 2, 1500));
    assert_eq!(c.xdp.attached, Attached::None);

    // Generic XDP on the peer changes nothing: veth's ndo_xdp_xmit needs the
    // peer's NAPI, which only native XDP (or GRO) starts.
    let skb = pair.run_in_b(|| Redirect::attach(&b, XdpMode::Skb).unwrap());
    assert_eq!(query_a().xdp_features, Some(VETH));
    let cb = query_b();
    assert_eq!(cb.xdp.attached, Attached::Skb);
    if let Some(ids) = &cb.napi_ids {
        assert!(ids.is_empty(), "skb mode starts no NAPI: {ids:?}");
    }
    drop(skb);

    // Native XDP on the peer: this end can now redirect into it (ndo-xmit),
    // and the peer's RX queues get NAPI instances.
    let drv = pair.run_in_b(|| Redirect::attach(&b, XdpMode::Drv).unwrap());
    let c = query_a();
    assert_eq!(c.xdp_features, Some(VETH_PEER_DRV), "{c:?}");
    let cb = query_b();
    assert_eq!(cb.xdp_features, Some(VETH), "the end with the program keeps its own features");
    assert_eq!(cb.xdp.attached, Attached::Drv);
    if Feature::NetdevQueues.available().unwrap() {
        // veth registers one NAPI per RX queue while native XDP runs, but
        // links none of them to its queues (no netif_queue_set_napi in
        // drivers/net/veth.c): queue-get shows no NAPI id, napi-get lists two.
        let napis = cb.napi_ids.clone().unwrap();
        assert_eq!(napis.len(), 2, "one NAPI per RX queue: {napis:?}");
        assert!(napis[0] != 0 && napis[0] != napis[1], "{napis:?}");
        assert_eq!(cb.rx_napi_ids, Some(vec![0, 0]), "veth links no NAPI to a queue");
        assert_eq!(cb.napi_id(1, false).unwrap(), 0);
        assert_eq!(query_a().napi_ids, Some(vec![]), "the end without XDP runs no NAPI");
    }
    drop(drv);
    common::assert_detached(&pair.ns_b, &b, "drv program dropped");
    assert_eq!(query_a().xdp_features, Some(VETH), "back to the peer-without-XDP set");

    // More TX queues on the peer than RX queues here: veth clears every
    // XDP feature (its redirect target would have no queue to land on).
    let uneven = VethPair::with_rx_tx(1, 2);
    let a = uneven.if_a.clone();
    let c = uneven.run_in_a(|| Capabilities::query(&a).unwrap());
    assert_eq!(c.xdp_features, Some(XdpFeatures(0)), "{c:?}");
}

#[test]
fn attached_programs_show_id_and_name_as_ip_link_does() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let a = pair.if_a.clone();
    let b = pair.if_b.clone();
    let umem_a = pair.run_in_a(umem);
    // Ours, through a socket, in skb mode.
    let skb_cfg = SocketConfig { xdp_mode: XdpMode::Skb, ..Default::default() };
    let _sock = pair.run_in_a(|| Socket::new(&a, 0, &umem_a, &skb_cfg).unwrap());
    let c = pair.run_in_a(|| Capabilities::query(&a).unwrap());
    assert_eq!(c.xdp.attached, Attached::Skb);
    let ours = c.xdp.skb.clone().expect("an skb program");
    assert!(c.xdp.drv.is_none() && c.xdp.hw.is_none());
    assert_eq!(ours.name.as_deref(), Some("xsk_rs_redirect"));
    assert!(ours.xsk_rs);
    assert_eq!(ip_link_programs(&pair.ns_a, &a), vec![(ours.id, "xsk_rs_redirect".to_string())]);
    assert_eq!(c.dev.mtu, ip_link_number(&pair.ns_a, &a, "mtu"));
    assert_eq!(c.dev.max_queues, ip_link_number(&pair.ns_a, &a, "numrxqueues"));

    // Someone else's, in drv mode on the other end.
    let (c, link) = pair.run_in_b(|| {
        let prog = foreign_program("foreign_pass");
        let ifindex = xsk_rs::netdev::Netdev::lookup(&b).unwrap().ifindex;
        let link = Link::attach(&prog, ifindex, XdpMode::Drv).unwrap();
        (Capabilities::query(&b).unwrap(), link)
    });
    assert_eq!(c.xdp.attached, Attached::Drv);
    let theirs = c.xdp.drv.clone().expect("a drv program");
    assert_eq!(theirs.name.as_deref(), Some("foreign_pass"));
    assert!(!theirs.xsk_rs);
    assert_ne!(theirs.id, ours.id);
    assert_eq!(ip_link_programs(&pair.ns_b, &b), vec![(theirs.id, "foreign_pass".to_string())]);
    assert_eq!(theirs.to_string(), format!("id {} \"foreign_pass\"", theirs.id));
    drop(link);
}

#[test]
fn socket_failures_say_what_the_device_lacks_or_who_is_attached() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let a = pair.if_a.clone();
    let umem_a = pair.run_in_a(umem);

    // Zero-copy on veth: the bind's EOPNOTSUPP says which feature is missing.
    let zc = SocketConfig { bind_flags: BIND_ZEROCOPY, xdp_mode: XdpMode::Skb, ..Default::default() };
    let e = pair.run_in_a(|| Socket::new(&a, 0, &umem_a, &zc).err().expect("veth has no zero-copy"));
    assert_eq!(e.errno(), libc::EOPNOTSUPP, "{e}");
    let m = e.to_string();
    if netlink_known() {
        assert!(
            m.contains("the device lacks xsk-zerocopy in its xdp-features (it has: basic, redirect, rx-sg)"),
            "{m}"
        );
        let c = pair.run_in_a(|| Capabilities::query(&a).unwrap());
        let e = c.check_bind(true, false).unwrap_err();
        assert!(e.to_string().contains("lacks xsk-zerocopy"), "{e}");
        c.check_bind(false, true).expect("copy-mode multi-buffer is not for xdp-features to refuse");
    } else {
        assert!(!m.contains("xdp-features"), "{m}");
    }
    // Zero-copy multi-buffer: what veth lacks is zero-copy itself, and the
    // message says so (not xdp-zc-max-segs, which veth does not report).
    if common::kernel_at_least(6, 6) {
        let umem_sg = pair.run_in_a(umem);
        let zc_sg = SocketConfig { bind_flags: BIND_ZEROCOPY | BIND_SG, xdp_mode: XdpMode::Skb, ..Default::default() };
        let e = pair.run_in_a(|| Socket::new(&a, 0, &umem_sg, &zc_sg).err().expect("veth has no zero-copy"));
        assert_eq!(e.errno(), libc::EOPNOTSUPP, "{e}");
        let m = e.to_string();
        if netlink_known() {
            assert!(
                m.contains(&format!(
                    "bind: the driver of {a} does not support zero-copy AF_XDP: the device lacks \
                     xsk-zerocopy in its xdp-features (it has: basic, redirect, rx-sg); use copy mode"
                )),
                "{m}"
            );
        }
    }

    // A foreign program: the EBUSY names its id and name.
    let (id, _link) = pair.run_in_a(|| {
        let prog = foreign_program("not_xsk_rs");
        let ifindex = xsk_rs::netdev::Netdev::lookup(&a).unwrap().ifindex;
        (prog.id().unwrap(), Link::attach(&prog, ifindex, XdpMode::Skb).unwrap())
    });
    for mode in [XdpMode::Auto, XdpMode::Skb, XdpMode::Drv] {
        let cfg = SocketConfig { xdp_mode: mode, ..Default::default() };
        let e = pair.run_in_a(|| Socket::new(&a, 0, &umem_a, &cfg).err().expect("busy"));
        assert_eq!(e.errno(), libc::EBUSY, "{mode:?}: {e}");
        // Named by the join's refusal, or by the link's hint where no join is tried.
        let m = e.to_string();
        let named = m.contains(&format!("(id {id}, name \"not_xsk_rs\")"))
            || m.contains(&format!("(attached: skb program id {id} \"not_xsk_rs\")"));
        assert!(named, "{mode:?}: {m}");
    }
}

/// Linux 6.1 has no netdev family: the call still answers from rtnetlink,
/// and what needs the family is EOPNOTSUPP naming it and its release.
#[test]
fn kernel_without_netdev_family_still_answers() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::with_queues(2);
    let a = pair.if_a.clone();
    let _prog = pair.run_in_a(|| Redirect::attach(&a, XdpMode::Skb).unwrap());
    let c = pair.run_in_a(|| Capabilities::query(&a).unwrap());
    assert_eq!((c.dev.rx_queues, c.dev.tx_queues, c.dev.mtu), (2, 2, 1500));
    let prog = c.xdp.skb.as_ref().expect("our program");
    assert!(prog.xsk_rs, "{prog}");
    let family = netlink_known();
    let queues = Feature::NetdevQueues.available().unwrap();
    assert_eq!(c.xdp_features.is_some(), family);
    assert_eq!(c.rx_napi_ids.is_some(), queues);
    if !family {
        for e in [c.require_xdp_features("zero-copy check").unwrap_err(), c.napi_id(0, false).unwrap_err()] {
            assert_eq!(e.errno(), libc::EOPNOTSUPP, "{e}");
            assert!(e.to_string().contains("needs Linux 6."), "{e}");
        }
        let e = c.require_xdp_features("zero-copy check").unwrap_err();
        assert!(e.to_string().contains("the netdev netlink family (xdp-features) needs Linux 6.3"), "{e}");
        // Nothing known, nothing refused.
        c.check_bind(true, true).unwrap();
    }
    if !queues {
        let e = c.napi_id(1, true).unwrap_err();
        assert!(e.to_string().contains("queue-get (NAPI ids of queues) needs Linux 6.8"), "{e}");
    } else {
        assert_eq!(c.napi_id(1, true).unwrap(), 0);
    }
    assert_eq!(c.napi_id(2, false).unwrap_err().errno(), libc::EINVAL);
}

/// Each kernel feature as the running kernel's release says it should be:
/// the probes ask the kernel, and this checks them against the releases the
/// features came in (on the kernels of tests/kernels too). A mismatch prints
/// what a plain UMEM registration with the TX metadata flag gives.
#[test]
fn kernel_features_match_the_release() {
    use xsk_rs::features::{Feature, ALL};
    if !common::require_root() {
        return;
    }
    let at = |ma, mi| common::kernel_at_least(ma, mi);
    let mut wrong = Vec::new();
    for f in ALL {
        let want = match f {
            Feature::MultiBuffer => at(6, 6),
            Feature::XdpFrags => at(5, 18),
            Feature::TxMetadata | Feature::TxSwChecksum => at(6, 8),
            Feature::PreferBusyPoll => at(5, 11),
            Feature::NetdevNetlink => at(6, 3),
            Feature::NetdevQueues => at(6, 8),
            Feature::NapiConfig => at(6, 13),
            _ => continue,
        };
        let got = f.available().unwrap();
        if got != want {
            wrong.push(format!("{f:?}: probed {got}, release says {want}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{wrong:?}; a umem registration with XDP_UMEM_TX_METADATA_LEN gives {}",
        umem_reg_errno()
    );
}

/// errno of registering one page with `XDP_UMEM_TX_METADATA_LEN` and a
/// tx_metadata_len of 24 (0: it worked).
fn umem_reg_errno() -> String {
    // SAFETY: plain syscalls on fds and a mapping this function owns.
    unsafe {
        let fd = libc::socket(libc::AF_XDP, libc::SOCK_RAW, 0);
        let area = libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        let reg = libc::xdp_umem_reg {
            addr: area as u64,
            len: 4096,
            chunk_size: 2048,
            headroom: 0,
            flags: libc::XDP_UMEM_TX_METADATA_LEN,
            tx_metadata_len: 24,
        };
        let rc = libc::setsockopt(
            fd,
            libc::SOL_XDP,
            libc::XDP_UMEM_REG,
            (&reg as *const libc::xdp_umem_reg).cast(),
            std::mem::size_of::<libc::xdp_umem_reg>() as libc::socklen_t,
        );
        let e = std::io::Error::last_os_error();
        libc::close(fd);
        libc::munmap(area, 4096);
        if rc == 0 {
            "0".into()
        } else {
            format!("{e}")
        }
    }
}
