/* Status codes and the library's version: the text a program shows people. */
#define _GNU_SOURCE /* strerrordesc_np */
#include <string.h>

#include "anpr/anpr.h"

unsigned anpr_version_number(void)
{
    return ANPR_VERSION_NUMBER;
}

#define ANPR_STR2(x) #x
#define ANPR_STR(x) ANPR_STR2(x)

const char *anpr_version_string(void)
{
    return ANPR_STR(ANPR_VERSION_MAJOR) "." ANPR_STR(ANPR_VERSION_MINOR) "." ANPR_STR(ANPR_VERSION_PATCH);
}

const char *anpr_strerror(int status)
{
    switch (status) {
    case ANPR_OK: return "success";
    case ANPR_EINVAL: return "invalid argument";
    case ANPR_EBADREAD: return "some reads were refused by validation";
    case ANPR_ECORRUPT: return "file is corrupt (checksum or bounds check failed)";
    case ANPR_ELOCKED: return "store is locked by another writer";
    case ANPR_EVERSION: return "unsupported file format version";
    case ANPR_EREADONLY: return "store is open read-only";
    case ANPR_EBUSY: return "store already has a writer";
    case ANPR_EEXPIRED: return "day was dropped by retention";
    case ANPR_ENOTSTORE: return "directory holds no store";
    default: break;
    }
    /*
     * A negated errno. strerror() is not thread-safe in general, but glibc's
     * returns static strings for known codes; strerrordesc_np says exactly that
     * without the locale machinery.
     */
    if (status < 0 && status > -4096) {
        const char *s = strerrordesc_np(-status);
        if (s) return s;
    }
    return "unknown status";
}
