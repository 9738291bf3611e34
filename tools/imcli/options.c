#include "options.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cyrus/imclient.h>

static const char usage_text[] =
    "usage: imcli [options] HOST [COMMAND ...]\n"
    "\n"
    "Connection:\n"
    "  -p, --port PORT            port or service (default imap, or imaps with --implicit-tls)\n"
    "      --implicit-tls         TLS from the first byte instead of STARTTLS\n"
    "      --cafile FILE          trust the CAs in FILE instead of the system's\n"
    "      --capath DIR           trust the CAs in DIR (hashed) instead of the system's\n"
    "      --cert FILE            client certificate (for EXTERNAL)\n"
    "      --key FILE             its private key (default: FILE of --cert)\n"
    "      --insecure-no-verify   DANGEROUS: accept any server certificate\n"
    "      --insecure-plaintext   DANGEROUS: no TLS at all\n"
    "Authentication:\n"
    "  -u, --user NAME            the name to authenticate as\n"
    "  -m, --sasl MECH[,MECH...]  SASL mechanisms to try in order\n"
    "                             (default with --user: SCRAM-SHA-256,SCRAM-SHA-1,PLAIN)\n"
    "      --login                use the LOGIN command instead of SASL\n"
    "      --authz NAME           the identity to act as (SASL authzid)\n"
    "      --password-env VAR     read the password from environment variable VAR\n"
    "      --password-file FILE   read the password from the first line of FILE\n"
    "                             (otherwise it is asked for on the terminal)\n"
    "Output and actions:\n"
    "      --json                 print each response as a JSON object\n"
    "      --trace FILE           also write the transcript to FILE\n"
    "      --fetch MAILBOX UID FILE  save that message to FILE and exit\n"
    "  -h, --help                 this text\n"
    "  -V, --version              versions of imcli and of the library\n"
    "\n"
    "COMMANDs run one after another; without any, commands are read from\n"
    "standard input (with line editing when it is a terminal).\n"
    "Exit status: 0 ok, 1 NO/BAD, 2 usage, 3 connect, 4 TLS, 5 authentication,\n"
    "6 connection lost, 7 local file or terminal.  See imcli(1).\n";

enum {
    OPT_IMPLICIT = 256, OPT_CAFILE, OPT_CAPATH, OPT_CERT, OPT_KEY, OPT_NOVERIFY,
    OPT_PLAINTEXT, OPT_LOGIN, OPT_AUTHZ, OPT_PWENV, OPT_PWFILE, OPT_JSON, OPT_TRACE,
    OPT_FETCH, OPT_PASSWORD,
};

static const struct option longopts[] = {
    { "port", required_argument, NULL, 'p' },
    { "implicit-tls", no_argument, NULL, OPT_IMPLICIT },
    { "cafile", required_argument, NULL, OPT_CAFILE },
    { "capath", required_argument, NULL, OPT_CAPATH },
    { "cert", required_argument, NULL, OPT_CERT },
    { "key", required_argument, NULL, OPT_KEY },
    { "insecure-no-verify", no_argument, NULL, OPT_NOVERIFY },
    { "insecure-plaintext", no_argument, NULL, OPT_PLAINTEXT },
    { "user", required_argument, NULL, 'u' },
    { "sasl", required_argument, NULL, 'm' },
    { "login", no_argument, NULL, OPT_LOGIN },
    { "authz", required_argument, NULL, OPT_AUTHZ },
    { "password-env", required_argument, NULL, OPT_PWENV },
    { "password-file", required_argument, NULL, OPT_PWFILE },
    /* Recognised only to refuse it with the reason: a password in argv
     * is readable by every local user through ps(1) and /proc. */
    { "password", required_argument, NULL, OPT_PASSWORD },
    { "json", no_argument, NULL, OPT_JSON },
    { "trace", required_argument, NULL, OPT_TRACE },
    { "fetch", required_argument, NULL, OPT_FETCH },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};

static int usage_error(const char *fmt, const char *arg)
{
    fputs("imcli: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nTry 'imcli --help'.\n", stderr);
    return -1;
}

/* --fetch takes three arguments; getopt gives it the first. */
static int take_fetch(struct imcli_options *o, int argc, char **argv)
{
    if (optind + 1 >= argc)
        return usage_error("%s needs MAILBOX UID FILE", "--fetch");
    o->fetch_mailbox = optarg;
    o->fetch_uid = argv[optind++];
    o->fetch_file = argv[optind++];
    if (strspn(o->fetch_uid, "0123456789") != strlen(o->fetch_uid) ||
        o->fetch_uid[0] == '0' || strlen(o->fetch_uid) > 10)
        return usage_error("--fetch: UID \"%s\" is not a number from 1", o->fetch_uid);
    return 0;
}

static int take_option(struct imcli_options *o, int opt, int argc, char **argv)
{
    switch (opt) {
    case 'p': o->port = optarg; return 0;
    case OPT_IMPLICIT: o->tls = IMCLI_TLS_IMPLICIT; return 0;
    case OPT_CAFILE: o->cafile = optarg; return 0;
    case OPT_CAPATH: o->capath = optarg; return 0;
    case OPT_CERT: o->cert = optarg; return 0;
    case OPT_KEY: o->key = optarg; return 0;
    case OPT_NOVERIFY: o->no_verify = 1; return 0;
    case OPT_PLAINTEXT: o->tls = IMCLI_TLS_NONE; return 0;
    case 'u': o->user = optarg; return 0;
    case 'm': o->sasl = optarg; o->auth = IMCLI_AUTH_SASL; return 0;
    case OPT_LOGIN: o->auth = IMCLI_AUTH_LOGIN; return 0;
    case OPT_AUTHZ: o->authz = optarg; return 0;
    case OPT_PWENV: o->password_env = optarg; return 0;
    case OPT_PWFILE: o->password_file = optarg; return 0;
    case OPT_PASSWORD:
        return usage_error("%s is not accepted: use --password-env, --password-file "
                           "or the prompt", "--password");
    case OPT_JSON: o->json = 1; return 0;
    case OPT_TRACE: o->trace_file = optarg; return 0;
    case OPT_FETCH: return take_fetch(o, argc, argv);
    default: return usage_error("%s", "unknown option or missing argument");
    }
}

/* Combinations that cannot work, refused before anything is sent. */
static int check_combination(struct imcli_options *o)
{
    if (o->user && o->auth == IMCLI_AUTH_NONE) {
        o->auth = IMCLI_AUTH_SASL;
        o->sasl = "SCRAM-SHA-256,SCRAM-SHA-1,PLAIN";
    }
    if (o->auth == IMCLI_AUTH_LOGIN && !o->user)
        return usage_error("%s needs --user", "--login");
    /* LOGIN sends the password as it is; without TLS anyone on the path
     * reads it.  SASL mechanisms that do the same are refused by the
     * library on such a connection. */
    if (o->auth == IMCLI_AUTH_LOGIN && o->tls == IMCLI_TLS_NONE)
        return usage_error("%s would send the password in the clear; "
                           "use a SASL mechanism such as SCRAM-SHA-256", "--login");
    if (o->password_env && o->password_file)
        return usage_error("%s: choose one password source", "--password-env and --password-file");
    if (o->no_verify && o->tls == IMCLI_TLS_NONE)
        return usage_error("%s: there is no TLS to verify",
                           "--insecure-no-verify with --insecure-plaintext");
    if (o->key && !o->cert)
        return usage_error("%s needs --cert", "--key");
    if (o->fetch_file && o->commands[0])
        return usage_error("%s runs no other commands", "--fetch");
    if (!o->port)
        o->port = o->tls == IMCLI_TLS_IMPLICIT ? "imaps" : "imap";
    return 0;
}

int imcli_options_parse(struct imcli_options *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    int opt;
    /* "+": options end at HOST, so a command such as "FETCH 1 -x" is
     * never read as options. */
    while ((opt = getopt_long(argc, argv, "+p:u:m:hV", longopts, NULL)) != -1) {
        if (opt == 'h') {
            fputs(usage_text, stdout);
            return 1;
        }
        if (opt == 'V') {
            printf("imcli %s (libcyrus %s)\n", IMCLIENT_VERSION_STRING, imclient_version());
            return 1;
        }
        if (take_option(o, opt, argc, argv) < 0)
            return -1;
    }
    if (optind >= argc)
        return usage_error("%s", "no HOST given");
    o->host = argv[optind++];
    o->commands = argv + optind;
    return check_combination(o);
}
