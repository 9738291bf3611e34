/* Sentences for the module's return codes. */
#include "url/url.h"

const char *imapurl_strerror(int code)
{
    switch (code) {
    case IMAPURL_OK:
        return "Success";
    case IMAPURL_EINVAL:
        return "Malformed input: not a valid IMAP URL, mailbox name, UTF-8 or modified UTF-7 string";
    case IMAPURL_ENOSPC:
        return "The output buffer is too small";
    case IMAPURL_ERANGE:
        return "A number is out of range (zero, too large, or not a valid port)";
    case IMAPURL_ENOTSUP:
        return "Valid but not supported: a relative URL or an IPvFuture host";
    default:
        return "Unknown imapurl error code";
    }
}
