/*
 * libsasl2's plugins leak where this library cannot help it: the GSSAPI
 * plugin its credential handle when no layer is negotiated and a token on
 * its "no acceptable layer" path, the DIGEST-MD5 plugin its OpenSSL
 * ciphers (reproduced with libsasl2 alone, without this library).
 * LeakSanitizer is told about those plugins only; the slow unwinder is
 * needed to see them through libcrypto and libgssapi frames.  Compiled into
 * the real-server programs that run those mechanisms (the sanitizers read
 * these when built in; unused otherwise).
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libgssapiv2.so\nleak:libdigestmd5.so\n";
}

const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}
