/* Writing a code point as UTF-8 into a bounded URL output. */
#include "url/url.h"

void imc_utf8_put(struct imc_url_out *o, uint32_t cp)
{
    if (cp < 0x80) {
        imc_url_putc(o, (char)cp);
    } else if (cp < 0x800) {
        imc_url_putc(o, (char)(0xC0 | cp >> 6));
        imc_url_putc(o, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        imc_url_putc(o, (char)(0xE0 | cp >> 12));
        imc_url_putc(o, (char)(0x80 | (cp >> 6 & 0x3F)));
        imc_url_putc(o, (char)(0x80 | (cp & 0x3F)));
    } else {
        imc_url_putc(o, (char)(0xF0 | cp >> 18));
        imc_url_putc(o, (char)(0x80 | (cp >> 12 & 0x3F)));
        imc_url_putc(o, (char)(0x80 | (cp >> 6 & 0x3F)));
        imc_url_putc(o, (char)(0x80 | (cp & 0x3F)));
    }
}

