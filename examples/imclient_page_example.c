/*
 * The example program of the imclient(3) page, kept as the page prints it so
 * the test suite can prove it still builds and runs.  The page lost the
 * name of its first header; it is the one that declares xstrdup.  The test
 * (tests/scripts/page_example.sh) changes only the server and port strings.
 */
#include <cyrus/xmalloc.h> /* example uses xstrdup */
#include <cyrus/imclient.h>
#include <cyrus/imclient.h>
#include <cyrus/imclient.h>
extern struct sasl_client krb_sasl_client;
struct sasl_client *login_sasl_client[] = {
&krb_sasl_client,
NULL
};
struct imclient *imclient;
char server[] = "cyrus.andrew.cmu.edu" ;
char port[] = "imap";
void fatal(char* message, int rc) {
fprintf(stderr, "fatal error: %s\n", message);
exit(rc);
}
static void callback_capability(struct imclient *imclient,
void *rock,
struct imclient_reply *reply) {
if (reply->text != NULL) {
*((char**)rock) = xstrdup( reply->text );
}
}
static void end_command(struct imclient *connection, void*
rock, struct imclient_reply *inmsg) {
(*(int*)rock)--;
}
main() {
char* capability_string;
int nc;
if (imclient_connect(&imclient, server, port)) {
fprintf(stderr,
"error: Couldn't connect to %s %s\n",
server, port);
exit(1);
}
if (imclient_authenticate(imclient, login_sasl_client, "imap"
/* service */,
NULL /* user */, SASL_PROT_ANY)) {
exit(1);
}
imclient_addcallback(imclient, "CAPABILITY",
CALLBACK_NOLITERAL,
callback_capability,
&capability_string,
NULL);
nc = 1;
imclient_send(imclient, end_command,
(void*) &nc, "CAPABILITY");
while(nc > 0) {
imclient_processoneevent(imclient);
}
if (strstr("LITERAL+", capability_string)) {
imclient_setflags(imclient, IMCLIENT_CONN_NONSYNCLITERAL);
}
imclient_send(imclient, NULL, NULL, "LOGOUT");
imclient_close(imclient);
printf("capability text is: %s\n", capability_string);
free(capability_string);
}
