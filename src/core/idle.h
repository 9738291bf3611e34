/*
 * IDLE (RFC 2177) as a flow of the session: the command goes out, the
 * server's "+" means it is idling, DONE goes out when the application asks
 * (held until that "+" if asked earlier), and the tagged reply ends it.
 * While IDLE runs no other command may be sent (RFC 2177: the client must
 * not send commands until DONE), and the silence timeout does not apply,
 * since an idling server may say nothing for many minutes.
 */
#ifndef IMC_IDLE_H
#define IMC_IDLE_H

#include <stdint.h>

enum imc_idle_state {
    IMC_IDLE_OFF,
    IMC_IDLE_ASKED,   /* IDLE sent, its "+" not yet here */
    IMC_IDLE_ON,      /* idling */
    IMC_IDLE_ENDING,  /* DONE queued; the tagged reply is due */
};

struct imc_idle {
    enum imc_idle_state state;
    uint64_t tag;
    int done_wanted; /* DONE asked for before the "+" arrived */
};

#endif
