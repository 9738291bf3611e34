/* fatal() is the application's: imclient(3) asks programs to define it.  The
 * library carries a default (util/fatal.c) for programs that do not. */
#ifndef IMC_FATAL_H
#define IMC_FATAL_H

void fatal(const char *msg, int code);

#endif
