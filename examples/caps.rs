//! Prints what an interface offers AF_XDP: `cargo run --example caps -- veth0`.

fn main() -> Result<(), xsk_rs::Error> {
    let name = std::env::args().nth(1).unwrap_or_else(|| "lo".into());
    let c = xsk_rs::netdev::Capabilities::query(&name)?;
    let or_unknown = |v: Option<String>| v.unwrap_or_else(|| "unknown (kernel does not say)".into());
    println!(
        "{}: ifindex {}, mtu {}, {} rx / {} tx queues",
        name, c.dev.ifindex, c.dev.mtu, c.dev.rx_queues, c.dev.tx_queues
    );
    println!("xdp-features: {}", or_unknown(c.xdp_features.map(|f| f.to_string())));
    println!("xdp-zc-max-segs: {}", or_unknown(c.xdp_zc_max_segs.map(|n| n.to_string())));
    println!("xsk-features: {}", or_unknown(c.xsk_features.map(|f| f.to_string())));
    println!("rx napi ids: {}", or_unknown(c.rx_napi_ids.as_ref().map(|v| format!("{v:?}"))));
    println!("tx napi ids: {}", or_unknown(c.tx_napi_ids.as_ref().map(|v| format!("{v:?}"))));
    println!("device napi ids: {}", or_unknown(c.napi_ids.as_ref().map(|v| format!("{v:?}"))));
    println!("xdp attached: {}", c.xdp.attached);
    for (mode, p) in c.xdp.iter() {
        println!("  {mode}: {p}");
    }
    Ok(())
}
