// zlib (Debian: zlib1g-dev), for gzip-compressed request messages.
#include <zlib.h>

/// inflateInit2 is a macro; Swift calls this instead.
static inline int baton_inflate_init(z_stream *stream, int window_bits) {
    return inflateInit2(stream, window_bits);
}
