/* zstd around the light encodings, with contexts the caller keeps for reuse. */
#include "anpr/anpr.h"
#include "encode/encode.h"

int enc_zstd_compress(enc_buf *out, ZSTD_CCtx *cctx, int level, const void *src, size_t len)
{
    size_t bound = ZSTD_compressBound(len);
    int rc = enc_buf_reserve(out, bound);
    if (rc < 0) return rc;
    size_t r = ZSTD_compressCCtx(cctx, out->data + out->len, bound, src, len, level);
    if (ZSTD_isError(r)) return ANPR_EINVAL;
    out->len += r;
    return 0;
}

int enc_zstd_decompress(void *dst, size_t dst_len, ZSTD_DCtx *dctx, const void *src, size_t len)
{
    /* The frame must say exactly how much it holds; the segment recorded the same size. */
    unsigned long long content = ZSTD_getFrameContentSize(src, len);
    if (content != dst_len) return ANPR_ECORRUPT;
    size_t r = ZSTD_decompressDCtx(dctx, dst, dst_len, src, len);
    if (ZSTD_isError(r) || r != dst_len) return ANPR_ECORRUPT;
    return 0;
}
