module xsk_rs/bindings/go

go 1.19
