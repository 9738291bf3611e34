/*
 * --json: each response as one line holding one JSON object, its tokens
 * typed by the library's tokenizer (<cyrus/imparse.h>):
 *
 *   {"type":"untagged","number":3,"keyword":"EXISTS","tokens":[]}
 *   {"type":"tagged","tag":"4","keyword":"OK","tokens":[{"type":"code",
 *    "items":[{"type":"atom","value":"READ-WRITE"}]}],"text":"Select completed."}
 *
 * Token types: atom, number, string (quoted), literal, literal8, nil,
 * list and code (a bracketed response code), the last two with "items".
 * A string's "value" is its text when it is well-formed UTF-8; otherwise
 * the object has "base64" instead, so any byte survives.
 */
#ifndef IMCLI_JSON_H
#define IMCLI_JSON_H

#include <stdio.h>

struct imclient_reply;

/* type: "untagged", "tagged", "continuation" or "eof" (the connection
 * ended before the command's reply); tag: NULL when there is none. */
void imcli_json_reply(FILE *out, const char *type, const char *tag,
                      const struct imclient_reply *reply);

#endif
