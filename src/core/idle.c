#include "core/session.h"

int imc_session_idle(struct imc_session *s, imclient_proc_t *finish, void *rock)
{
    if (s->idle.state != IMC_IDLE_OFF) {
        imc_session_refuse(s, finish, rock, "IDLE is already running");
        return -1;
    }
    if (imc_session_sendf(s, finish, rock, "IDLE") < 0)
        return -1;
    s->idle.state = IMC_IDLE_ASKED;
    s->idle.tag = imc_session_last_tag(s);
    s->idle.done_wanted = 0;
    return 0;
}

static void send_done(struct imc_session *s)
{
    imc_session_send_raw(s, "DONE\r\n", 6, 0);
    s->idle.state = IMC_IDLE_ENDING;
}

int imc_session_idle_done(struct imc_session *s)
{
    switch (s->idle.state) {
    case IMC_IDLE_ASKED:
        s->idle.done_wanted = 1;
        return 0;
    case IMC_IDLE_ON:
        send_done(s);
        return 0;
    case IMC_IDLE_ENDING:
        return 0;
    case IMC_IDLE_OFF:
        break;
    }
    return -1;
}

int imc_idle_continuation(struct imc_session *s)
{
    if (s->idle.state != IMC_IDLE_ASKED)
        return 0;
    s->idle.state = IMC_IDLE_ON;
    if (s->idle.done_wanted)
        send_done(s);
    return 1;
}

void imc_idle_ended(struct imc_session *s, uint64_t tag)
{
    if (s->idle.state != IMC_IDLE_OFF && tag == s->idle.tag)
        s->idle.state = IMC_IDLE_OFF;
}

const char *imc_idle_blocks_send(const struct imc_session *s)
{
    if (s->idle.state == IMC_IDLE_ASKED || s->idle.state == IMC_IDLE_ON)
        return "IDLE is running: end it with imclient_idle_done() first";
    return NULL;
}

int imc_session_idling(const struct imc_session *s)
{
    return s->idle.state == IMC_IDLE_ON;
}
