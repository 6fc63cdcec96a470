//! IRQ deferral per device (`netdev::IrqDeferral`): the values reach the
//! kernel (read back with netdev `napi-get`, and from sysfs), are put back
//! when the guard drops, whichever thread drops it, and packets still flow
//! with them set on veth in drv mode. On a kernel without `napi-set` (6.1)
//! the per-device sysfs files are used where /sys shows the calling
//! thread's namespace, and refused naming both ways where it does not.

mod common;

use common::{test_frame, VethPair};
use std::process::Command;
use std::time::Duration;
use xsk_rs::features::Feature;
use xsk_rs::netdev::{napi_settings, IrqDeferConfig, IrqDeferVia, IrqDeferral};
use xsk_rs::socket::{BusyPoll, Socket, SocketConfig};
use xsk_rs::umem::Umem;
use xsk_rs::xdp::XdpMode;

const PACKETS: u32 = 300;

fn napi_config() -> bool {
    Feature::NapiConfig.available().unwrap()
}

/// A per-device sysfs value of `ifname` as seen from namespace `ns`, through
/// `ip netns exec`, which mounts a sysfs of that namespace for the command.
fn sysfs_in(ns: &str, ifname: &str, file: &str) -> u64 {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "cat", &format!("/sys/class/net/{ifname}/{file}")])
        .output()
        .expect("run ip netns exec");
    assert!(out.status.success(), "cat {file}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// napi-set on every NAPI instance of a drv-mode veth: napi-get shows the
/// values while the guard lives (the device-level sysfs files do not
/// change: the setting is per NAPI), 300 packets arrive byte for byte with
/// busy polling on, and dropping the guard on a thread of another
/// namespace puts back exactly what was there.
#[test]
fn napi_set_is_read_back_and_restored_on_drop() {
    if !common::require_root() {
        return;
    }
    if !napi_config() {
        assert!(!common::kernel_at_least(6, 13), "6.13+ has napi-set");
        return;
    }
    let pair = VethPair::new();
    let (umem_cfg, sock_cfg) = common::traffic_configs(XdpMode::Drv);
    let bp = BusyPoll { usecs: 20, budget: 64, prefer: true };
    let cfg = IrqDeferConfig {
        defer_hard_irqs: Some(2),
        gro_flush_timeout_ns: Some(200_000),
        irq_suspend_timeout_ns: Some(5_000_000),
    };
    let (mut umem, mut sock, guard, before, during) = pair.run_in_a(|| {
        let umem = Umem::new(&umem_cfg).unwrap();
        let sock = Socket::new("veth0", 0, &umem, &SocketConfig { busy_poll: bp, ..sock_cfg }).unwrap();
        let before = napi_settings("veth0").unwrap();
        let guard = IrqDeferral::apply("veth0", &cfg).unwrap();
        let during = napi_settings("veth0").unwrap();
        (umem, sock, guard, before, during)
    });
    assert_eq!(sock.xdp_mode(), XdpMode::Drv);
    assert_eq!(guard.via(), IrqDeferVia::NapiSet);
    // veth in drv mode: one NAPI instance per RX queue.
    assert_eq!(before.len(), 1, "{before:?}");
    assert_eq!(guard.napi_ids(), before.iter().map(|s| s.id).collect::<Vec<_>>());
    assert_eq!(guard.previous(), &before[..]);
    for s in &during {
        assert_eq!(
            (s.defer_hard_irqs, s.gro_flush_timeout_ns, s.irq_suspend_timeout_ns),
            (2, 200_000, Some(5_000_000)),
            "{during:?}"
        );
    }
    assert_eq!(
        (sysfs_in(&pair.ns_a, "veth0", "napi_defer_hard_irqs"), sysfs_in(&pair.ns_a, "veth0", "gro_flush_timeout")),
        (0, 0),
        "napi-set leaves the device's defaults alone"
    );

    let sent: Vec<Vec<u8>> = (0..PACKETS).map(|seq| test_frame(seq, 60 + (seq as usize * 37) % 1400)).collect();
    common::peer_frames_arrive_exact(&pair, &mut umem, &mut sock, &sent);

    // Dropped here, on the test's main thread (another namespace): the
    // guard's own netlink socket still reaches ns_a's device.
    drop(guard);
    let after = pair.run_in_a(|| napi_settings("veth0").unwrap());
    assert_eq!(after, before);
    drop(sock);
}

/// Only the fields given change; an explicit restore reports success; a
/// NAPI instance that went away before the restore (veth's, when its XDP
/// program goes with the socket) is skipped, not an error.
#[test]
fn only_given_fields_change_and_vanished_napi_is_skipped() {
    if !common::require_root() || !napi_config() {
        assert!(!common::kernel_at_least(6, 13) || !common::require_root());
        return;
    }
    let pair = VethPair::new();
    let (umem_cfg, sock_cfg) = common::traffic_configs(XdpMode::Drv);
    pair.run_in_a(|| {
        let umem = Umem::new(&umem_cfg).unwrap();
        let sock = Socket::new("veth0", 0, &umem, &sock_cfg).unwrap();
        let before = napi_settings("veth0").unwrap();
        let mut first =
            IrqDeferral::apply("veth0", &IrqDeferConfig { gro_flush_timeout_ns: Some(50_000), ..Default::default() })
                .unwrap();
        let mid = napi_settings("veth0").unwrap();
        assert_eq!(mid[0].gro_flush_timeout_ns, 50_000);
        assert_eq!(mid[0].defer_hard_irqs, before[0].defer_hard_irqs, "defer_hard_irqs was not given");
        // Nested guards restore in reverse order.
        let mut second =
            IrqDeferral::apply("veth0", &IrqDeferConfig { defer_hard_irqs: Some(7), ..Default::default() }).unwrap();
        assert_eq!(napi_settings("veth0").unwrap()[0].defer_hard_irqs, 7);
        second.restore().unwrap();
        assert_eq!(napi_settings("veth0").unwrap(), mid);
        first.restore().unwrap();
        assert_eq!(napi_settings("veth0").unwrap(), before);

        let mut gone =
            IrqDeferral::apply("veth0", &IrqDeferConfig { defer_hard_irqs: Some(3), ..Default::default() }).unwrap();
        drop(sock);
        drop(umem);
        // The last socket detached the program: veth's NAPI went with it.
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while !napi_settings("veth0").unwrap().is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(napi_settings("veth0").unwrap(), vec![]);
        gone.restore().unwrap();
    });
}

/// Refusals say why: nothing to set, a value above the kernel's limit, no
/// such device, a device with no NAPI instance (veth without drv-mode XDP).
#[test]
fn refusals_say_why() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    pair.run_in_a(|| {
        let e = IrqDeferral::apply("veth0", &IrqDeferConfig::default()).unwrap_err();
        assert_eq!(e.errno(), libc::EINVAL, "{e}");
        assert!(e.to_string().contains("nothing to set"), "{e}");
        let e = IrqDeferral::apply("veth0", &IrqDeferConfig { defer_hard_irqs: Some(1 << 31), ..Default::default() })
            .unwrap_err();
        assert_eq!(e.errno(), libc::EINVAL, "{e}");
        assert!(e.to_string().contains("above the kernel's most, 2147483647"), "{e}");
        let e = IrqDeferral::apply("nosuch0", &IrqDeferConfig { defer_hard_irqs: Some(1), ..Default::default() })
            .unwrap_err();
        assert_eq!(e.errno(), libc::ENODEV, "{e}");
        let e = IrqDeferral::apply("veth0", &IrqDeferConfig { defer_hard_irqs: Some(1), ..Default::default() })
            .unwrap_err();
        if napi_config() {
            assert_eq!(e.errno(), libc::ENOENT, "{e}");
            assert!(e.to_string().contains("no NAPI instance"), "{e}");
        } else {
            // 6.1: no napi-set, and /sys is the init namespace's.
            assert_eq!(e.errno(), libc::EOPNOTSUPP, "{e}");
        }
    });
}

/// The sysfs way needs /sys to show the calling thread's namespace: from a
/// thread moved into a test namespace (this process's /sys is the init
/// namespace's) it is refused with EOPNOTSUPP naming napi-set and sysfs.
#[test]
fn sysfs_of_another_namespace_is_refused_naming_both_ways() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let cfg = IrqDeferConfig { defer_hard_irqs: Some(2), gro_flush_timeout_ns: Some(200_000), ..Default::default() };
    let e = pair.run_in_a(|| IrqDeferral::apply_via("veth0", &cfg, IrqDeferVia::Sysfs).unwrap_err());
    assert_eq!(e.errno(), libc::EOPNOTSUPP, "{e}");
    let m = e.to_string();
    assert!(m.contains("/sys shows another network namespace"), "{m}");
    assert!(m.contains("napi_defer_hard_irqs and gro_flush_timeout"), "{m}");
    if !napi_config() {
        // What apply itself says on a kernel without napi-set.
        let e = pair.run_in_a(|| IrqDeferral::apply("veth0", &cfg).unwrap_err());
        let m = e.to_string();
        assert_eq!(e.errno(), libc::EOPNOTSUPP, "{m}");
        assert!(m.contains("per-NAPI configuration (netdev netlink napi-set) needs Linux 6.13 or later"), "{m}");
        assert!(m.contains("/sys shows another network namespace"), "{m}");
    }
}

/// The sysfs way where /sys is this namespace's: the test re-runs itself
/// under `ip netns exec` (which mounts the namespace's sysfs), sets both
/// files, reads them back, and the guard puts the old values back.
#[test]
fn sysfs_way_sets_and_restores_the_device_files() {
    if !common::require_root() {
        return;
    }
    if let Ok(ifname) = std::env::var("XSK_RS_IRQ_DEFER_CHILD") {
        return sysfs_child(&ifname);
    }
    let pair = VethPair::new();
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("ip")
        .args(["netns", "exec", &pair.ns_a])
        .arg(exe)
        .args(["--exact", "sysfs_way_sets_and_restores_the_device_files", "--nocapture", "--test-threads=1"])
        .env("XSK_RS_IRQ_DEFER_CHILD", "veth0")
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    assert!(text.contains("sysfs child: set and restored"), "the child ran the checks: {text}");
    assert_eq!(sysfs_in(&pair.ns_a, "veth0", "napi_defer_hard_irqs"), 0);
}

fn sysfs_child(ifname: &str) {
    let read = |f: &str| -> u64 {
        std::fs::read_to_string(format!("/sys/class/net/{ifname}/{f}")).unwrap().trim().parse().unwrap()
    };
    let old = (read("napi_defer_hard_irqs"), read("gro_flush_timeout"));
    let cfg = IrqDeferConfig { defer_hard_irqs: Some(3), gro_flush_timeout_ns: Some(150_000), ..Default::default() };
    let guard = if napi_config() {
        IrqDeferral::apply_via(ifname, &cfg, IrqDeferVia::Sysfs).unwrap()
    } else {
        IrqDeferral::apply(ifname, &cfg).unwrap()
    };
    assert_eq!(guard.via(), IrqDeferVia::Sysfs);
    assert_eq!((read("napi_defer_hard_irqs"), read("gro_flush_timeout")), (3, 150_000));
    let e = IrqDeferral::apply_via(
        ifname,
        &IrqDeferConfig { irq_suspend_timeout_ns: Some(1), ..Default::default() },
        IrqDeferVia::Sysfs,
    )
    .unwrap_err();
    assert_eq!(e.errno(), libc::EOPNOTSUPP, "{e}");
    assert!(e.to_string().contains("irq_suspend_timeout has no sysfs file"), "{e}");
    drop(guard);
    assert_eq!((read("napi_defer_hard_irqs"), read("gro_flush_timeout")), old);
    println!("sysfs child: set and restored");
}
