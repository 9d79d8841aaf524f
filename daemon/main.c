/* main: the command line of closewaitd. Thin: parse argv, run, map errors to exit codes. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <systemd/sd-login.h>

#include "config.h"
#include "daemon.h"
#include "render.h"

struct args {
        bool once;
        bool json;
        bool check_config;
        bool verbose;
        const char *config_path; /* NULL: the default path, missing means defaults */
        const char *log_target;
};

static void usage(FILE *f) {
        fprintf(f,
                "Usage:\n"
                "  closewaitd [--config PATH] [--log-target auto|journal|stderr] [-v]\n"
                "  closewaitd --once [--json] [--config PATH]\n"
                "  closewaitd --check-config [--config PATH]\n"
                "  closewaitd --version | --help\n"
                "\n"
                "Finds processes that leak TCP sockets in CLOSE_WAIT (the peer closed, the program never\n"
                "called close()), connections dying in accept queues, and TIME_WAIT pile-ups.\n"
                "\n"
                "  --once            scan once, print the report to stdout and exit\n"
                "  --json            with --once: print the report as JSON\n"
                "  --config PATH     configuration file (default %s)\n"
                "  --check-config    validate the configuration and exit\n"
                "  --log-target T    where the daemon logs: auto, journal or stderr\n"
                "  -v, --verbose     log every scan\n"
                "  --version         print the version and exit\n"
                "  --help            print this help and exit\n"
                "\n"
                "Exit status: 0 success, 1 runtime failure, 64 bad usage, 78 configuration error.\n",
                CLOSEWAITD_CONFIG_PATH);
}

/* Returns 0 to go on, or an exit status (EX_OK for --help/--version) with *done set. */
static int parse_args(int argc, char **argv, struct args *a, bool *done) {
        enum { OPT_ONCE = 0x100, OPT_JSON, OPT_CONFIG, OPT_CHECK, OPT_LOG_TARGET, OPT_VERSION, OPT_HELP };
        static const struct option options[] = {
                { "once", no_argument, NULL, OPT_ONCE },
                { "json", no_argument, NULL, OPT_JSON },
                { "config", required_argument, NULL, OPT_CONFIG },
                { "check-config", no_argument, NULL, OPT_CHECK },
                { "log-target", required_argument, NULL, OPT_LOG_TARGET },
                { "verbose", no_argument, NULL, 'v' },
                { "version", no_argument, NULL, OPT_VERSION },
                { "help", no_argument, NULL, OPT_HELP },
                {},
        };
        int c;

        *done = false;
        while ((c = getopt_long(argc, argv, "v", options, NULL)) >= 0) {
                switch (c) {
                case OPT_ONCE:
                        a->once = true;
                        break;
                case OPT_JSON:
                        a->json = true;
                        break;
                case OPT_CONFIG:
                        a->config_path = optarg;
                        break;
                case OPT_CHECK:
                        a->check_config = true;
                        break;
                case OPT_LOG_TARGET:
                        if (strcmp(optarg, "auto") != 0 && strcmp(optarg, "journal") != 0 &&
                            strcmp(optarg, "stderr") != 0) {
                                fprintf(stderr,
                                        "closewaitd: --log-target must be auto, journal or stderr, not \"%s\"\n",
                                        optarg);
                                *done = true;
                                return EX_USAGE;
                        }
                        a->log_target = optarg;
                        break;
                case 'v':
                        a->verbose = true;
                        break;
                case OPT_VERSION:
                        printf("closewaitd %s\n", CLOSEWAITD_VERSION);
                        *done = true;
                        return EX_OK;
                case OPT_HELP:
                        usage(stdout);
                        *done = true;
                        return EX_OK;
                default:
                        usage(stderr);
                        *done = true;
                        return EX_USAGE;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "closewaitd: unexpected argument \"%s\"\n", argv[optind]);
                *done = true;
                return EX_USAGE;
        }
        if (a->json && !a->once) {
                fprintf(stderr, "closewaitd: --json needs --once\n");
                *done = true;
                return EX_USAGE;
        }
        if (a->once && a->check_config) {
                fprintf(stderr, "closewaitd: --once and --check-config exclude each other\n");
                *done = true;
                return EX_USAGE;
        }
        return 0;
}

static int run_once(const struct args *a) {
        struct daemon *d = NULL;
        const struct report *report;
        struct render_scan scan = {};
        int r;

        r = daemon_new("/proc", sd_pid_get_unit, &d);
        if (r < 0) {
                fprintf(stderr, "closewaitd: cannot open the socket diagnostics or /proc: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        r = daemon_scan(d, &report, &scan);
        if (r < 0) {
                fprintf(stderr, "closewaitd: scan failed: %s\n", strerror(-r));
                daemon_free(d);
                return EXIT_FAILURE;
        }
        r = a->json ? render_json(stdout, report, &scan) : render_table(stdout, report, &scan);
        daemon_free(d);
        if (r < 0) {
                fprintf(stderr, "closewaitd: cannot write the report: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}

int main(int argc, char **argv) {
        struct args a = { .log_target = "auto" };
        bool done;
        int r;

        r = parse_args(argc, argv, &a, &done);
        if (done)
                return r;

        if (a.config_path && access(a.config_path, R_OK) < 0) {
                fprintf(stderr, "%s: cannot read the configuration: %s\n", a.config_path, strerror(errno));
                return EX_CONFIG;
        }
        if (a.once)
                return run_once(&a);

        fprintf(stderr, "closewaitd: only --once is available in this version\n");
        return EX_USAGE;
}
