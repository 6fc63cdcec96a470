// header_cpp: xsk_rs.h must be usable from C++ as it is: it compiles under
// -std=c++17 -Wall -Wextra -Werror -pedantic, its declarations have C linkage
// (this program links against libxsk_rs), and the structs have the layout the
// kernel's AF_XDP ABI and the C side agree on. Needs no privileges.
#include <xsk_rs.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <type_traits>

static_assert(std::is_standard_layout<xsk_rs_desc>::value, "xsk_rs_desc is plain data");
static_assert(sizeof(xsk_rs_desc) == 16, "xsk_rs_desc matches struct xdp_desc");
static_assert(offsetof(xsk_rs_desc, addr) == 0 && offsetof(xsk_rs_desc, len) == 8 &&
                      offsetof(xsk_rs_desc, options) == 12,
              "xsk_rs_desc field offsets match struct xdp_desc");
static_assert(sizeof(xsk_rs_stats) == 6 * sizeof(uint64_t), "xsk_rs_stats is six counters");
static_assert(offsetof(xsk_rs_umem_config, sz) == 0 && offsetof(xsk_rs_socket_config, sz) == 0,
              "config structs start with their size");

int main()
{
    // Taking the address of each call checks that it is declared, with the
    // expected signature, in the global namespace.
    int (*create)(xsk_rs_umem **, const xsk_rs_umem_config *) = &xsk_rs_umem_create;
    int (*put)(xsk_rs_tx *, const xsk_rs_desc *, uint32_t) = &xsk_rs_tx_put;
    const xsk_rs_desc *(*rx_desc)(const xsk_rs_rx *, uint32_t) = &xsk_rs_rx_desc;
    (void)create;
    (void)put;
    (void)rx_desc;

    xsk_rs_umem_config ucfg;
    xsk_rs_socket_config scfg;
    xsk_rs_umem_config_init(&ucfg, sizeof(ucfg));
    xsk_rs_socket_config_init(&scfg, sizeof(scfg));
    if (ucfg.sz != sizeof ucfg || scfg.sz != sizeof scfg || ucfg.frame_size != 4096 ||
        scfg.bind_flags != XSK_RS_BIND_NEED_WAKEUP || scfg.xdp_mode != XSK_RS_XDP_MODE_AUTO) {
        std::fprintf(stderr, "header_cpp: config defaults are not the documented ones\n");
        return 1;
    }

    // Calls that need no privileges and no kernel object.
    if (xsk_rs_umem_create(nullptr, nullptr) != -EINVAL || std::strlen(xsk_rs_last_error()) == 0) {
        std::fprintf(stderr, "header_cpp: NULL out-param was not -EINVAL with a message\n");
        return 1;
    }
    xsk_rs_socket_destroy(nullptr);
    if (xsk_rs_umem_destroy(nullptr) != 0 || xsk_rs_fill_reserve(nullptr, 1, nullptr) != -EINVAL) {
        std::fprintf(stderr, "header_cpp: destroy(NULL) is not a no-op, or a NULL ring is not -EINVAL\n");
        return 1;
    }
    std::printf("header_cpp: libxsk_rs %s usable from C++ (%s)\n", xsk_rs_version(), xsk_rs_strerror(-EINVAL));
    return 0;
}
