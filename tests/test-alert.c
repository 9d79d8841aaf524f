/* Unit tests of alert: every kind of event formatted as raise, repeat and resolve from events built
 * in the test (fake report_proc, proc_info with hostile strings), then the sinks: the stream sink's
 * lines, the fallback when the primary fails (announced once, recovery announced once), lost
 * entries when both fail, and the min_priority filter. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "test-util.h"

#include "alert.h"

#define SEC(s) ((usec_t) ((s) * (double) USEC_PER_SEC + 0.5))

/* Checks that hold for every entry: well-formed keys, no control byte anywhere (a newline would
 * forge a line on stderr; journald would split nothing but viewers would), the three fields every
 * entry has, PRIORITY matching e->priority, no key twice. */
static void assert_sane(const struct alert_entry *e) {
        char prio[8];

        assert_true(e->n >= 3);
        assert_true(e->n <= ALERT_MAX_FIELDS);
        for (size_t i = 0; i < e->n; i++) {
                const char *f = e->fields[i], *eq = strchr(f, '=');

                assert_non_null(eq);
                assert_true(eq > f);
                assert_true(f[0] != '_');
                for (const char *k = f; k < eq; k++)
                        if (!((*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') || *k == '_'))
                                fail_msg("bad key character in %s", f);
                for (const unsigned char *p = (const unsigned char *) f; *p; p++)
                        if (*p < 0x20 || *p == 0x7f)
                                fail_msg("control byte 0x%02x in field %s", *p, f);
                for (size_t j = 0; j < i; j++)
                        if (strncmp(e->fields[j], f, (size_t) (eq - f) + 1) == 0)
                                fail_msg("duplicate field %s", f);
        }
        assert_non_null(alert_entry_get(e, "MESSAGE"));
        snprintf(prio, sizeof(prio), "%d", e->priority);
        assert_string_equal(alert_entry_get(e, "PRIORITY"), prio);
        assert_string_equal(alert_entry_get(e, "SYSLOG_IDENTIFIER"), "closewaitd");
}

static void assert_field(const struct alert_entry *e, const char *key, const char *want) {
        const char *v = alert_entry_get(e, key);

        if (!v)
                fail_msg("field %s missing (MESSAGE=%s)", key, alert_entry_get(e, "MESSAGE"));
        else if (strcmp(v, want) != 0)
                fail_msg("%s=\"%s\", expected \"%s\"", key, v, want);
}

static void assert_no_field(const struct alert_entry *e, const char *key) {
        const char *v = alert_entry_get(e, key);

        if (v)
                fail_msg("field %s=\"%s\" should be absent", key, v);
}

static void assert_message_has(const struct alert_entry *e, const char *needle) {
        const char *m = alert_entry_get(e, "MESSAGE");

        if (!m || !strstr(m, needle))
                fail_msg("MESSAGE lacks \"%s\": %s", needle, m ? m : "(none)");
}

static void assert_message_lacks(const struct alert_entry *e, const char *needle) {
        const char *m = alert_entry_get(e, "MESSAGE");

        if (m && strstr(m, needle))
                fail_msg("MESSAGE has \"%s\": %s", needle, m);
}

static void assert_message_is(const struct alert_entry *e, const char *want) {
        assert_field(e, "MESSAGE", want);
}

static void format(const struct policy_event *ev, struct alert_entry *e) {
        assert_int_equal(alert_format_event(ev, e), 0);
        assert_sane(e);
}

/* A process holding 60 CLOSE_WAIT sockets, 57 of them stuck, 12 unread, 7 distinct peers. */
struct cw_fixture {
        struct proc_info info;
        struct report_peer peers[7];
        usec_t ages[60];
        struct report_proc proc;
        struct policy_subject subject;
        struct policy_event ev;
};

static void cw_setup(struct cw_fixture *f, enum policy_kind kind, enum policy_event_type type) {
        static const struct {
                const char *ip;
                uint16_t port;
                unsigned count;
        } peers[] = {
                { "10.0.0.5", 5432, 40 },  { "10.0.0.6", 5432, 3 }, { "::ffff:10.0.0.7", 6379, 2 },
                { "2001:db8::1", 443, 2 }, { "10.0.0.8", 80, 1 },   { "10.0.0.9", 80, 1 },
                { "10.0.0.10", 80, 1 },
        };

        memset(f, 0, sizeof(*f));
        f->info = (struct proc_info){
                .pid = 1234,
                .start_time = 777,
                .comm = (char *) "nginx",
                .exe = (char *) "/usr/sbin/nginx",
                .uid = 33,
                .unit = (char *) "nginx.service",
                .open_fds = 340,
                .fd_limit = 1024,
        };
        for (size_t i = 0; i < ELEMENTSOF(peers); i++)
                f->peers[i] = (struct report_peer){ .remote = test_addr(peers[i].ip, peers[i].port),
                                                    .count = peers[i].count };
        f->ages[0] = SEC(412.5);
        for (size_t i = 1; i < 57; i++)
                f->ages[i] = SEC(100) - i * SEC(1);
        f->ages[56] = SEC(15.3);
        for (size_t i = 57; i < 60; i++)
                f->ages[i] = SEC(2);
        f->proc = (struct report_proc){
                .info = &f->info,
                .close_wait = 60,
                .unread = 12,
                .oldest_age_usec = SEC(412.5),
                .ages = f->ages,
                .peers = f->peers,
                .n_peers = ELEMENTSOF(peers),
        };
        f->subject = (struct policy_subject){
                .kind = kind,
                .pid = 1234,
                .start_time = 777,
                .comm = (char *) "nginx",
                .exe = (char *) "/usr/sbin/nginx",
                .unit = (char *) "nginx.service",
        };
        f->ev = (struct policy_event){
                .type = type,
                .reason = POLICY_REASON_COUNT,
                .subject = &f->subject,
                .count = 57,
                .threshold = 50,
                .oldest_age_usec = SEC(412.5),
                .fds = 340,
                .fd_limit = 1024,
                .duration_usec = type == POLICY_RAISE ? 0 : SEC(3600),
                .proc = &f->proc,
        };
}

static void test_close_wait_raise_count(void **state) {
        struct cw_fixture f;
        struct alert_entry e;

        cw_setup(&f, POLICY_CLOSE_WAIT, POLICY_RAISE);
        format(&f.ev, &e);
        assert_int_equal(e.priority, LOG_WARNING);
        assert_field(&e, "PRIORITY", "4");
        assert_field(&e, "MESSAGE_ID", ALERT_MID_CLOSE_WAIT);
        assert_field(&e, "OBJECT_PID", "1234");
        assert_field(&e, "CLOSEWAITD_EVENT", "raise");
        assert_field(&e, "CLOSEWAITD_KIND", "close_wait");
        assert_field(&e, "CLOSEWAITD_REASON", "count");
        assert_field(&e, "CLOSEWAITD_PID", "1234");
        assert_field(&e, "CLOSEWAITD_COMM", "nginx");
        assert_field(&e, "CLOSEWAITD_EXE", "/usr/sbin/nginx");
        assert_field(&e, "CLOSEWAITD_UNIT", "nginx.service");
        assert_field(&e, "CLOSEWAITD_COUNT", "57");
        assert_field(&e, "CLOSEWAITD_THRESHOLD", "50");
        assert_field(&e, "CLOSEWAITD_OLDEST_AGE_S", "412.5");
        assert_field(&e, "CLOSEWAITD_FDS", "340");
        assert_field(&e, "CLOSEWAITD_FD_LIMIT", "1024");
        assert_field(&e, "CLOSEWAITD_HELD", "60");
        assert_field(&e, "CLOSEWAITD_UNREAD", "12");
        /* Top 5 only; the v4-mapped peer is shown as the IPv4 address it is. */
        assert_field(&e, "CLOSEWAITD_TOP_PEERS",
                     "10.0.0.5:5432=40 10.0.0.6:5432=3 10.0.0.7:6379=2 [2001:db8::1]:443=2 10.0.0.8:80=1");
        assert_no_field(&e, "CLOSEWAITD_DURATION_S");
        assert_no_field(&e, "CLOSEWAITD_LOCAL");
        assert_no_field(&e, "CLOSEWAITD_REMOTE");
        assert_message_is(&e, "CLOSE_WAIT leak suspected in nginx[1234] (nginx.service): 57 sockets stuck in "
                              "CLOSE_WAIT for >= 15.3s (threshold 50), oldest 412.5s; fds 340/1024; top peers "
                              "10.0.0.5:5432=40 10.0.0.6:5432=3 10.0.0.7:6379=2 [2001:db8::1]:443=2 10.0.0.8:80=1 "
                              "(+2 more); of all 60 held: 12 not reading (Recv-Q > 0: the application never read "
                              "the peer's EOF); 48 read EOF and never called close()");
        alert_entry_done(&e);
        assert_int_equal(e.n, 0);
}

/* A process in a container: its network namespace, container id and pod are fields, and the
 * message names the container (12 digits, as docker ps does); from the snapshot once it is gone.
 * A listener's alert carries the namespace of its sockets. */
static void test_container_fields(void **state) {
        static const char id[] = "4a3f1c2b9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a";
        static const char pod[] = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";
        struct cw_fixture f;
        struct alert_entry e;

        (void) state;
        cw_setup(&f, POLICY_CLOSE_WAIT, POLICY_RAISE);
        f.info.netns = 4026532999;
        f.info.container = (char *) id;
        f.info.pod = (char *) pod;
        format(&f.ev, &e);
        assert_field(&e, "CLOSEWAITD_NETNS", "4026532999");
        assert_field(&e, "CLOSEWAITD_CONTAINER", id);
        assert_field(&e, "CLOSEWAITD_POD", pod);
        assert_message_has(&e, "(nginx.service, container 4a3f1c2b9d8e)");
        alert_entry_done(&e);

        /* Gone: the snapshot taken at raise still says where it ran. */
        cw_setup(&f, POLICY_CLOSE_WAIT, POLICY_RESOLVE);
        f.ev.proc = NULL;
        f.subject.netns = 4026532998;
        f.subject.container = NULL;
        f.subject.pod = (char *) pod;
        format(&f.ev, &e);
        assert_field(&e, "CLOSEWAITD_NETNS", "4026532998");
        assert_no_field(&e, "CLOSEWAITD_CONTAINER");
        assert_field(&e, "CLOSEWAITD_POD", pod);
        assert_message_has(&e, "pod 0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b");
        alert_entry_done(&e);

        /* On the host with nothing known: no such fields at all. */
        cw_setup(&f, POLICY_CLOSE_WAIT, POLICY_RAISE);
        format(&f.ev, &e);
        assert_no_field(&e, "CLOSEWAITD_NETNS");
        assert_no_field(&e, "CLOSEWAITD_CONTAINER");
        assert_no_field(&e, "CLOSEWAITD_POD");
        alert_entry_done(&e);
}

static void test_close_wait_raise_age(void **state) {
        struct cw_fixture f;
        struct alert_entry e;

        cw_setup(&f, POLICY_CLOSE_WAIT, POLICY_RAISE);
        f.ev.reason = POLICY_REASON_AGE;
        f.ev.threshold = 900;
        f.ev.count = 3;
        f.ev.oldest_age_usec = SEC(912);
        format(&f.ev, &e);
        assert_field(&e, "CLOSEWAITD_REASON", "age");
        assert_field(&e, "CLOSEWAITD_THRESHOLD", "900.0");
        assert_field(&e, "CLOSEWAITD_OLDEST_AGE_S", "912.0");
        assert_field(&e, "CLOSEWAITD_COUNT", "3");
        assert_message_has(&e, "CLOSE_WAIT leak suspected in nginx[1234] (nginx.service): oldest CLOSE_WAIT socket "
                               "is 912.0s old (threshold 900s); 3 sockets stuck in CLOSE_WAIT; fds 340/1024");
        alert_entry_done(&e);

        f.ev.threshold = 90.5;
        format(&f.ev, &e);
        assert_field(&e, "CLOSEWAITD_THRESHOLD", "90.5");
        assert_message_has(&e, "(threshold 90.5s)");
        alert_entry_done(&e);
}

/* The two bugs read differently: Recv-Q > 0 (not reading) versus read EOF and never closed. */
static void test_close_wait_reading_wording(void **state) {
        struct cw_fixture f;
        struct alert_entry e;

        cw_setup(&f, POLICY_CLOSE_WAIT, POLICY_RAISE);
        f.proc.unread = 0;
        f.proc.close_wait = 57;
        format(&f.ev, &e);
        assert_message_has(&e, "; 57 read EOF and never called close()");
        assert_message_lacks(&e, "not reading");
        assert_message_lacks(&e, "of all");
        assert_field(&e, "CLOSEWAITD_UNREAD", "0");
        alert_entry_done(&e);

        f.proc.unread = 57;
        format(&f.ev, &e);
        assert_message_has(&e, "; 57 not reading (Recv-Q > 0");
        assert_message_lacks(&e, "never called close()");
        alert_entry_done(&e);
}

static void test_close_wait_repeat(void **state) {
        struct cw_fixture f;
        struct alert_entry e;

        cw_setup(&f, POLICY_CLOSE_WAIT, POLICY_REPEAT);
        format(&f.ev, &e);
        assert_int_equal(e.priority, LOG_WARNING);
        assert_field(&e, "MESSAGE_ID", ALERT_MID_CLOSE_WAIT);
        assert_field(&e, "CLOSEWAITD_EVENT", "repeat");
        assert_field(&e, "CLOSEWAITD_DURATION_S", "3600.0");
        assert_field(&e, "OBJECT_PID", "1234");
        assert_message_has(&e, "still: CLOSE_WAIT leak suspected in nginx[1234] (nginx.service): 57 sockets");
        assert_message_has(&e, "; raised 3600.0s ago");
        alert_entry_done(&e);
}

static void test_close_wait_resolve(void **state) {
        struct cw_fixture f;
        struct alert_entry e;

        /* Still alive, fewer stuck sockets. */
        cw_setup(&f, POLICY_CLOSE_WAIT, POLICY_RESOLVE);
        f.ev.count = 3;
        f.ev.oldest_age_usec = SEC(20.1);
        f.ev.duration_usec = SEC(3612.4);
        format(&f.ev, &e);
        assert_int_equal(e.priority, LOG_NOTICE);
        assert_field(&e, "PRIORITY", "5");
        assert_field(&e, "MESSAGE_ID", ALERT_MID_RESOLVED);
        assert_field(&e, "CLOSEWAITD_KIND", "close_wait");
        assert_field(&e, "CLOSEWAITD_EVENT", "resolve");
        assert_field(&e, "CLOSEWAITD_DURATION_S", "3612.4");
        assert_field(&e, "CLOSEWAITD_COUNT", "3");
        assert_field(&e, "OBJECT_PID", "1234");
        assert_message_is(&e, "resolved: CLOSE_WAIT leak in nginx[1234] (nginx.service) cleared after 3612.4s (now 3 "
                              "sockets stuck, oldest 20.1s)");
        alert_entry_done(&e);

        /* Gone from the report: the snapshot still names it, no OBJECT_PID for a dead pid. */
        f.ev.proc = NULL;
        f.ev.count = 0;
        f.ev.fds = 0;
        f.ev.fd_limit = -1;
        f.ev.oldest_age_usec = 0;
        format(&f.ev, &e);
        assert_no_field(&e, "OBJECT_PID");
        /* ... but the unit, so that the resolve shows in "journalctl -u nginx.service". */
        assert_field(&e, "OBJECT_SYSTEMD_UNIT", "nginx.service");
        assert_field(&e, "CLOSEWAITD_PID", "1234");
        assert_field(&e, "CLOSEWAITD_COMM", "nginx");
        assert_field(&e, "CLOSEWAITD_UNIT", "nginx.service");
        assert_field(&e, "CLOSEWAITD_COUNT", "0");
        assert_no_field(&e, "CLOSEWAITD_FDS");
        assert_no_field(&e, "CLOSEWAITD_FD_LIMIT");
        assert_no_field(&e, "CLOSEWAITD_TOP_PEERS");
        assert_message_is(&e, "resolved: CLOSE_WAIT leak in nginx[1234] (nginx.service) cleared after 3612.4s (it "
                              "holds no CLOSE_WAIT socket any more, or it exited)");
        alert_entry_done(&e);
}

/* A leaking server's peers are its clients' ephemeral ports, one socket each: summed per host. */
static void test_peers_grouped(void **state) {
        struct cw_fixture f;
        struct alert_entry e;
        struct report_peer peers[] = {
                { .remote = test_addr("10.1.1.1", 50001), .count = 1 },
                { .remote = test_addr("10.0.0.5", 5432), .count = 2 },
                { .remote = test_addr("10.1.1.1", 50003), .count = 1 },
                { .remote = test_addr("10.1.1.2", 40000), .count = 1 },
                { .remote = test_addr("::ffff:10.1.1.1", 50002), .count = 1 },
                { .remote = test_addr("2001:db8::7", 1000), .count = 1 },
                { .remote = test_addr("2001:db8::7", 1001), .count = 1 },
        };

        cw_setup(&f, POLICY_CLOSE_WAIT, POLICY_RAISE);
        f.proc.peers = peers;
        f.proc.n_peers = ELEMENTSOF(peers);
        format(&f.ev, &e);
        /* The field: the report's first five peers, exact and parseable (mapped ones unmapped). */
        assert_field(&e, "CLOSEWAITD_TOP_PEERS",
                     "10.1.1.1:50001=1 10.0.0.5:5432=2 10.1.1.1:50003=1 10.1.1.2:40000=1 10.1.1.1:50002=1");
        /* The text: a host's client ports summed. */
        assert_message_has(&e, "; top peers 10.1.1.1:*=3 10.0.0.5:5432=2 [2001:db8::7]:*=2 10.1.1.2:40000=1; ");
        assert_message_lacks(&e, "more)");
        alert_entry_done(&e);

        /* No peers: no field, nothing in the text. */
        f.proc.n_peers = 0;
        format(&f.ev, &e);
        assert_no_field(&e, "CLOSEWAITD_TOP_PEERS");
        assert_message_lacks(&e, "top peers");
        alert_entry_done(&e);
}

/* fd_limit -1 (unlimited or unknown): no CLOSEWAITD_FD_LIMIT, no "/limit" in the text. */
static void test_unlimited_fds(void **state) {
        struct cw_fixture f;
        struct alert_entry e;

        cw_setup(&f, POLICY_CLOSE_WAIT, POLICY_RAISE);
        f.ev.fd_limit = -1;
        format(&f.ev, &e);
        assert_field(&e, "CLOSEWAITD_FDS", "340");
        assert_no_field(&e, "CLOSEWAITD_FD_LIMIT");
        assert_message_has(&e, "; fds 340; top peers");
        alert_entry_done(&e);
}

/* exe is named when it says more than comm: an interpreter, a deleted binary. No unit: no unit. */
static void test_exe_when_useful(void **state) {
        struct cw_fixture f;
        struct alert_entry e;

        cw_setup(&f, POLICY_CLOSE_WAIT, POLICY_RAISE);
        f.info.comm = (char *) "gunicorn";
        f.info.exe = (char *) "/usr/bin/python3.11";
        f.info.unit = NULL;
        f.subject.unit = NULL;
        format(&f.ev, &e);
        assert_message_has(&e, "in gunicorn[1234] (/usr/bin/python3.11): 57");
        assert_no_field(&e, "CLOSEWAITD_UNIT");
        alert_entry_done(&e);

        f.info.comm = (char *) "redis-server";
        f.info.exe = (char *) "/usr/bin/redis-server (deleted)";
        f.info.unit = (char *) "redis.service";
        format(&f.ev, &e);
        assert_message_has(&e, "in redis-server[1234] (/usr/bin/redis-server (deleted), redis.service): 57");
        alert_entry_done(&e);

        /* Unreadable comm. */
        f.info.comm = (char *) "";
        f.subject.comm = NULL;
        f.info.exe = NULL;
        f.subject.exe = NULL;
        format(&f.ev, &e);
        assert_message_has(&e, "in pid 1234 (redis.service): 57");
        assert_no_field(&e, "CLOSEWAITD_COMM");
        assert_no_field(&e, "CLOSEWAITD_EXE");
        alert_entry_done(&e);
}

/* Escaped strings pass unchanged (no double escaping); raw control bytes, DEL and bidirectional
 * overrides that slipped through are escaped here. */
static void test_hostile_strings(void **state) {
        struct cw_fixture f;
        struct alert_entry e;

        cw_setup(&f, POLICY_CLOSE_WAIT, POLICY_RAISE);
        f.info.comm = (char *) "a\\x1b[31mb";
        f.info.exe = (char *) "/opt/caf\xc3\xa9/bin";
        format(&f.ev, &e);
        assert_field(&e, "CLOSEWAITD_COMM", "a\\x1b[31mb");
        assert_field(&e, "CLOSEWAITD_EXE", "/opt/caf\xc3\xa9/bin");
        assert_message_has(&e, "in a\\x1b[31mb[1234] (/opt/caf\xc3\xa9/bin, nginx.service)");
        alert_entry_done(&e);

        f.info.comm = (char *) "evil\n\x1b[31mX";
        f.info.exe = (char *) "/tmp/a\rb\x7f";
        f.info.unit = (char *) "u\tv\xe2\x80\xae.service";
        format(&f.ev, &e);
        assert_field(&e, "CLOSEWAITD_COMM", "evil\\x0a\\x1b[31mX");
        assert_field(&e, "CLOSEWAITD_EXE", "/tmp/a\\x0db\\x7f");
        assert_field(&e, "CLOSEWAITD_UNIT", "u\\x09v\\xe2\\x80\\xae.service");
        assert_message_has(&e, "in evil\\x0a\\x1b[31mX[1234] (/tmp/a\\x0db\\x7f, u\\x09v\\xe2\\x80\\xae.service)");
        alert_entry_done(&e);

        /* The same through the snapshot, when the process is gone. */
        f.ev.type = POLICY_RESOLVE;
        f.ev.proc = NULL;
        f.subject.comm = (char *) "x\ny";
        format(&f.ev, &e);
        assert_field(&e, "CLOSEWAITD_COMM", "x\\x0ay");
        alert_entry_done(&e);
}

static void test_accept_backlog(void **state) {
        struct proc_info info = {
                .pid = 99, .comm = (char *) "redis-server", .exe = (char *) "/usr/bin/redis-server", .fd_limit = 1024
        };
        pid_t pids[] = { 99, 100, 101 };
        usec_t ages[14] = { SEC(40.2), SEC(30), SEC(20), SEC(19), SEC(18),   SEC(17), SEC(16),
                            SEC(16),   SEC(16), SEC(16), SEC(16), SEC(15.1), SEC(3),  SEC(1) };
        struct report_backlog bl = {
                .local = test_addr("127.0.0.1", 8080),
                .info = &info,
                .pids = pids,
                .n_pids = 3,
                .close_wait = 14,
                .oldest_age_usec = SEC(40.2),
                .ages = ages,
        };
        struct policy_subject s = {
                .kind = POLICY_ACCEPT_BACKLOG,
                .pid = 99,
                .netns = 4026531840,
                .addr = test_addr("127.0.0.1", 8080),
                .comm = (char *) "redis-server",
                .exe = (char *) "/usr/bin/redis-server",
        };
        struct policy_event ev = {
                .type = POLICY_RAISE,
                .reason = POLICY_REASON_COUNT,
                .subject = &s,
                .count = 12,
                .threshold = 10,
                .oldest_age_usec = SEC(40.2),
                .fd_limit = -1,
                .backlog = &bl,
        };
        struct alert_entry e;

        format(&ev, &e);
        assert_int_equal(e.priority, LOG_WARNING);
        assert_field(&e, "MESSAGE_ID", ALERT_MID_ACCEPT_BACKLOG);
        assert_field(&e, "CLOSEWAITD_KIND", "accept_backlog");
        assert_field(&e, "CLOSEWAITD_LOCAL", "127.0.0.1:8080");
        assert_field(&e, "CLOSEWAITD_PID", "99");
        assert_field(&e, "OBJECT_PID", "99");
        assert_field(&e, "CLOSEWAITD_COMM", "redis-server");
        assert_field(&e, "CLOSEWAITD_COUNT", "12");
        assert_field(&e, "CLOSEWAITD_THRESHOLD", "10");
        assert_field(&e, "CLOSEWAITD_OLDEST_AGE_S", "40.2");
        assert_field(&e, "CLOSEWAITD_PIDS", "99 100 101");
        assert_field(&e, "CLOSEWAITD_NETNS", "4026531840");
        assert_no_field(&e, "CLOSEWAITD_REMOTE");
        assert_no_field(&e, "CLOSEWAITD_FDS");
        assert_no_field(&e, "CLOSEWAITD_TOP_PEERS");
        assert_no_field(&e, "CLOSEWAITD_UNIT");
        assert_message_is(&e, "accept backlog on 127.0.0.1:8080 (redis-server[99] and 2 more processes): 12 "
                              "connections died unaccepted in the queue, each waiting >= 15.1s (threshold 10), oldest "
                              "40.2s: the listener is not calling accept()");
        alert_entry_done(&e);

        ev.type = POLICY_REPEAT;
        ev.duration_usec = SEC(7200);
        bl.n_pids = 1;
        format(&ev, &e);
        assert_field(&e, "CLOSEWAITD_DURATION_S", "7200.0");
        assert_field(&e, "CLOSEWAITD_PIDS", "99");
        assert_message_has(&e, "still: accept backlog on 127.0.0.1:8080 (redis-server[99]): 12 connections");
        assert_message_has(&e, "; raised 7200.0s ago");
        alert_entry_done(&e);

        ev.type = POLICY_RESOLVE;
        ev.count = 2;
        format(&ev, &e);
        assert_int_equal(e.priority, LOG_NOTICE);
        assert_field(&e, "MESSAGE_ID", ALERT_MID_RESOLVED);
        assert_field(&e, "CLOSEWAITD_KIND", "accept_backlog");
        assert_field(&e, "OBJECT_PID", "99");
        assert_message_is(&e, "resolved: accept backlog on 127.0.0.1:8080 (redis-server[99]) cleared after 7200.0s "
                              "(now 2 stuck connections)");
        alert_entry_done(&e);

        /* The listener closed. */
        ev.backlog = NULL;
        ev.count = 0;
        format(&ev, &e);
        assert_no_field(&e, "OBJECT_PID");
        assert_no_field(&e, "CLOSEWAITD_PIDS");
        assert_message_is(&e, "resolved: accept backlog on 127.0.0.1:8080 (redis-server[99]) cleared after 7200.0s "
                              "(no stuck connection left, or the listener closed)");
        alert_entry_done(&e);

        /* Owner unknown: no name, no pid fields. */
        s.pid = 0;
        s.comm = NULL;
        s.exe = NULL;
        ev.type = POLICY_RAISE;
        format(&ev, &e);
        assert_no_field(&e, "CLOSEWAITD_PID");
        assert_no_field(&e, "OBJECT_PID");
        assert_message_has(&e, "accept backlog on 127.0.0.1:8080: 0 connections");
        alert_entry_done(&e);
}

static void test_time_wait_server(void **state) {
        struct proc_info info = { .pid = 88, .comm = (char *) "nginx", .exe = (char *) "/usr/sbin/nginx" };
        pid_t pids[] = { 88 };
        struct report_tw tw = {
                .server = true,
                .addr = test_addr("0.0.0.0", 80),
                .info = &info,
                .pids = pids,
                .n_pids = 1,
                .count = 12000,
                .oldest_age_usec = SEC(59.9),
        };
        struct policy_subject s = {
                .kind = POLICY_TIME_WAIT,
                .pid = 88,
                .server = true,
                .addr = test_addr("0.0.0.0", 80),
                .comm = (char *) "nginx",
        };
        struct policy_event ev = {
                .type = POLICY_RAISE,
                .reason = POLICY_REASON_COUNT,
                .subject = &s,
                .count = 12000,
                .threshold = 10000,
                .oldest_age_usec = SEC(59.9),
                .fd_limit = -1,
                .tw = &tw,
        };
        struct alert_entry e;

        format(&ev, &e);
        assert_int_equal(e.priority, LOG_WARNING);
        assert_field(&e, "MESSAGE_ID", ALERT_MID_TIME_WAIT);
        assert_field(&e, "CLOSEWAITD_KIND", "time_wait");
        assert_field(&e, "CLOSEWAITD_LOCAL", "0.0.0.0:80");
        assert_field(&e, "CLOSEWAITD_PID", "88");
        assert_field(&e, "OBJECT_PID", "88");
        assert_field(&e, "CLOSEWAITD_COUNT", "12000");
        assert_field(&e, "CLOSEWAITD_THRESHOLD", "10000");
        assert_field(&e, "CLOSEWAITD_OLDEST_AGE_S", "59.9");
        assert_no_field(&e, "CLOSEWAITD_REMOTE");
        assert_message_is(&e, "TIME_WAIT pile-up on 0.0.0.0:80 (nginx[88]): 12000 sockets (threshold 10000): heavy "
                              "connection churn, the server closes first; consider keep-alive");
        alert_entry_done(&e);

        ev.type = POLICY_REPEAT;
        ev.duration_usec = SEC(3600);
        format(&ev, &e);
        assert_message_has(&e, "still: TIME_WAIT pile-up on 0.0.0.0:80 (nginx[88])");
        assert_field(&e, "CLOSEWAITD_DURATION_S", "3600.0");
        alert_entry_done(&e);

        ev.type = POLICY_RESOLVE;
        ev.count = 4000;
        format(&ev, &e);
        assert_field(&e, "MESSAGE_ID", ALERT_MID_RESOLVED);
        assert_field(&e, "CLOSEWAITD_KIND", "time_wait");
        assert_message_is(&e, "resolved: TIME_WAIT pile-up on 0.0.0.0:80 (nginx[88]) cleared after 3600.0s (now 4000 "
                              "sockets)");
        alert_entry_done(&e);
}

static void test_time_wait_client(void **state) {
        struct report_tw tw = {
                .server = false,
                .addr = test_addr("10.0.0.9", 5432),
                .count = 12000,
                .oldest_age_usec = SEC(59.9),
        };
        struct policy_subject s = { .kind = POLICY_TIME_WAIT, .server = false, .addr = test_addr("10.0.0.9", 5432) };
        struct policy_event ev = {
                .type = POLICY_RAISE,
                .reason = POLICY_REASON_COUNT,
                .subject = &s,
                .count = 12000,
                .threshold = 10000,
                .oldest_age_usec = SEC(59.9),
                .fd_limit = -1,
                .tw = &tw,
        };
        struct alert_entry e;

        format(&ev, &e);
        assert_field(&e, "MESSAGE_ID", ALERT_MID_TIME_WAIT);
        assert_field(&e, "CLOSEWAITD_REMOTE", "10.0.0.9:5432");
        assert_no_field(&e, "CLOSEWAITD_LOCAL");
        assert_no_field(&e, "CLOSEWAITD_PID");
        assert_no_field(&e, "CLOSEWAITD_COMM");
        assert_no_field(&e, "OBJECT_PID");
        assert_no_field(&e, "CLOSEWAITD_PIDS");
        assert_message_is(&e, "TIME_WAIT pile-up towards 10.0.0.9:5432: 12000 sockets (threshold 10000): this host "
                              "opens and closes many short connections to it, ephemeral ports may run out; reuse "
                              "connections (pooling, keep-alive)");
        alert_entry_done(&e);

        ev.type = POLICY_REPEAT;
        ev.duration_usec = SEC(60);
        format(&ev, &e);
        assert_message_has(&e, "still: TIME_WAIT pile-up towards 10.0.0.9:5432: 12000 sockets");
        assert_message_has(&e, "; raised 60.0s ago");
        alert_entry_done(&e);

        ev.type = POLICY_RESOLVE;
        ev.tw = NULL;
        ev.count = 0;
        format(&ev, &e);
        assert_field(&e, "MESSAGE_ID", ALERT_MID_RESOLVED);
        assert_field(&e, "CLOSEWAITD_REMOTE", "10.0.0.9:5432");
        assert_message_is(&e, "resolved: TIME_WAIT pile-up towards 10.0.0.9:5432 cleared after 60.0s (now 0 sockets)");
        alert_entry_done(&e);

        /* IPv6 groups use brackets. */
        s.addr = test_addr("2001:db8::9", 443);
        format(&ev, &e);
        assert_field(&e, "CLOSEWAITD_REMOTE", "[2001:db8::9]:443");
        alert_entry_done(&e);
}

static void test_fd_pressure(void **state) {
        struct cw_fixture f;
        struct alert_entry e;

        cw_setup(&f, POLICY_FD_PRESSURE, POLICY_RAISE);
        f.info.comm = (char *) "java";
        f.info.exe = (char *) "/usr/lib/jvm/java-17/bin/java";
        f.info.unit = (char *) "app.service";
        f.info.pid = 77;
        f.subject.pid = 77;
        f.ev.reason = POLICY_REASON_RATIO;
        f.ev.count = 400;
        f.ev.fds = 870;
        f.ev.threshold = 0.8;
        format(&f.ev, &e);
        assert_int_equal(e.priority, LOG_ERR);
        assert_field(&e, "PRIORITY", "3");
        assert_field(&e, "MESSAGE_ID", ALERT_MID_FD_PRESSURE);
        assert_field(&e, "CLOSEWAITD_KIND", "fd_pressure");
        assert_field(&e, "CLOSEWAITD_REASON", "ratio");
        assert_field(&e, "CLOSEWAITD_THRESHOLD", "0.80");
        assert_field(&e, "CLOSEWAITD_FD_RATIO", "0.85");
        assert_field(&e, "CLOSEWAITD_FDS", "870");
        assert_field(&e, "CLOSEWAITD_FD_LIMIT", "1024");
        assert_field(&e, "CLOSEWAITD_COUNT", "400");
        assert_field(&e, "OBJECT_PID", "77");
        assert_field(&e, "CLOSEWAITD_UNIT", "app.service");
        assert_message_is(&e, "fd pressure in java[77] (app.service): 870 of 1024 open files (85%, threshold 80%) "
                              "while holding 400 CLOSE_WAIT sockets: \"Too many open files\" is near");
        alert_entry_done(&e);

        f.ev.type = POLICY_REPEAT;
        f.ev.duration_usec = SEC(3600);
        format(&f.ev, &e);
        assert_int_equal(e.priority, LOG_ERR);
        assert_message_has(&e, "still: fd pressure in java[77] (app.service): 870 of 1024");
        assert_message_has(&e, "; raised 3600.0s ago");
        alert_entry_done(&e);

        f.ev.type = POLICY_RESOLVE;
        f.ev.fds = 300;
        format(&f.ev, &e);
        assert_int_equal(e.priority, LOG_NOTICE);
        assert_field(&e, "MESSAGE_ID", ALERT_MID_RESOLVED);
        assert_field(&e, "CLOSEWAITD_KIND", "fd_pressure");
        assert_field(&e, "OBJECT_PID", "77");
        assert_message_is(&e, "resolved: fd pressure in java[77] (app.service) cleared after 3600.0s (now 300 of 1024 "
                              "open files, 29%)");
        alert_entry_done(&e);

        f.ev.proc = NULL;
        format(&f.ev, &e);
        assert_no_field(&e, "OBJECT_PID");
        assert_message_has(&e, "cleared after 3600.0s (it holds no CLOSE_WAIT socket any more, or it exited)");
        alert_entry_done(&e);
}

static void test_bad_event(void **state) {
        struct policy_event ev = { .type = POLICY_RAISE };
        struct alert_entry e;

        assert_int_equal(alert_format_event(&ev, &e), -EINVAL);
        assert_int_equal(e.n, 0);
        alert_entry_done(&e);
}

static void test_suppressed(void **state) {
        struct alert_entry e;

        assert_int_equal(alert_format_suppressed(42, 10, &e), 0);
        assert_sane(&e);
        assert_int_equal(e.priority, LOG_WARNING);
        assert_message_is(&e,
                          "42 more alerts held back this scan (at most 10 per scan); they follow at the next scans");
        assert_field(&e, "CLOSEWAITD_SUPPRESSED", "42");
        assert_field(&e, "CLOSEWAITD_MAX_EVENTS", "10");
        assert_field(&e, "CLOSEWAITD_EVENT", "suppressed");
        assert_no_field(&e, "MESSAGE_ID");
        alert_entry_done(&e);

        assert_int_equal(alert_format_suppressed(1, 10, &e), 0);
        assert_message_is(&e, "1 more alert held back this scan (at most 10 per scan); it follows at the next scans");
        alert_entry_done(&e);
}

static void test_format_message(void **state) {
        struct alert_entry e;

        assert_int_equal(alert_format_message(LOG_INFO, NULL, "started", &e), 0);
        assert_sane(&e);
        assert_int_equal(e.n, 3);
        assert_no_field(&e, "MESSAGE_ID");
        assert_field(&e, "PRIORITY", "6");
        alert_entry_done(&e);

        assert_int_equal(alert_format_message(LOG_WARNING, ALERT_MID_DEGRADED, "cannot read /proc\nforged", &e), 0);
        assert_sane(&e);
        assert_field(&e, "MESSAGE_ID", ALERT_MID_DEGRADED);
        assert_field(&e, "MESSAGE", "cannot read /proc\\x0aforged");
        alert_entry_done(&e);
        alert_entry_done(&e); /* twice is fine */
}

/* A sink that keeps MESSAGE and PRIORITY of what it is given, or fails with c->fail. */
struct capture {
        char *messages[32];
        int priorities[32];
        size_t n;
        int fail;
        unsigned calls;
};

static int capture_write(void *userdata, const struct alert_entry *e) {
        struct capture *c = userdata;

        c->calls++;
        if (c->fail)
                return c->fail;
        assert_true(c->n < ELEMENTSOF(c->messages));
        c->messages[c->n] = strdup(alert_entry_get(e, "MESSAGE"));
        assert_non_null(c->messages[c->n]);
        c->priorities[c->n++] = e->priority;
        return 0;
}

static void capture_done(struct capture *c) {
        for (size_t i = 0; i < c->n; i++)
                free(c->messages[i]);
        memset(c, 0, sizeof(*c));
}

static struct alert_sink capture_sink(struct capture *c) {
        return (struct alert_sink){ .write = capture_write, .userdata = c };
}

static void emit_text(struct alert *a, int priority, const char *text, int expect) {
        struct alert_entry e;

        assert_int_equal(alert_format_message(priority, NULL, text, &e), 0);
        assert_int_equal(alert_emit(a, &e), expect);
        alert_entry_done(&e);
}

static void test_fallback(void **state) {
        struct capture p = {}, f = {};
        struct alert *a;

        assert_int_equal(alert_new(capture_sink(&p), capture_sink(&f), LOG_INFO, &a), 0);

        emit_text(a, LOG_WARNING, "one", 0);
        assert_int_equal(p.n, 1);
        assert_int_equal(f.n, 0);

        /* journald goes away: the switch is announced once, through the fallback, before the entry. */
        p.fail = -ECONNREFUSED;
        emit_text(a, LOG_WARNING, "two", 0);
        emit_text(a, LOG_WARNING, "three", 0);
        assert_int_equal(f.n, 3);
        assert_string_equal(f.messages[0], "journal unreachable (Connection refused), logging to stderr");
        assert_int_equal(f.priorities[0], LOG_WARNING);
        assert_string_equal(f.messages[1], "two");
        assert_string_equal(f.messages[2], "three");
        assert_int_equal(p.n, 1);
        assert_int_equal(alert_lost(a), 0);

        /* Back: the recovery line goes first, through the primary, once. */
        p.fail = 0;
        emit_text(a, LOG_WARNING, "four", 0);
        emit_text(a, LOG_WARNING, "five", 0);
        assert_int_equal(p.n, 4);
        assert_string_equal(p.messages[1], "journal reachable again; 2 entries were written to stderr meanwhile");
        assert_string_equal(p.messages[2], "four");
        assert_string_equal(p.messages[3], "five");
        assert_int_equal(f.n, 3);

        /* Both fail: counted as lost, the last error returned. */
        p.fail = -ENOENT;
        f.fail = -EIO;
        emit_text(a, LOG_WARNING, "six", -EIO);
        emit_text(a, LOG_WARNING, "seven", -EIO);
        assert_int_equal(alert_lost(a), 2);

        /* The fallback works again; the switch is not announced twice for one outage. */
        f.fail = 0;
        emit_text(a, LOG_WARNING, "eight", 0);
        assert_int_equal(f.n, 4);
        assert_string_equal(f.messages[3], "eight");

        p.fail = 0;
        emit_text(a, LOG_WARNING, "nine", 0);
        assert_int_equal(p.n, 6);
        assert_string_equal(p.messages[4], "journal reachable again; 1 entries were written to stderr meanwhile; 2 "
                                           "could not be written anywhere");
        assert_string_equal(p.messages[5], "nine");
        assert_int_equal(alert_lost(a), 2);

        /* Count the announcements over the whole run. */
        {
                size_t down = 0, up = 0;

                for (size_t i = 0; i < f.n; i++)
                        down += strncmp(f.messages[i], "journal unreachable", 19) == 0;
                for (size_t i = 0; i < p.n; i++)
                        up += strncmp(p.messages[i], "journal reachable again", 23) == 0;
                assert_int_equal(down, 1);
                assert_int_equal(up, 2);
        }

        assert_null(alert_free(a));
        capture_done(&p);
        capture_done(&f);
}

/* Without a fallback, a failing primary loses the entry (and says so in the count). */
static void test_no_fallback(void **state) {
        struct capture p = { .fail = -ECONNREFUSED };
        struct alert *a;

        assert_int_equal(alert_new(capture_sink(&p), (struct alert_sink){}, LOG_INFO, &a), 0);
        emit_text(a, LOG_ERR, "x", -ECONNREFUSED);
        assert_int_equal(alert_lost(a), 1);
        p.fail = 0;
        emit_text(a, LOG_ERR, "y", 0);
        assert_int_equal(p.n, 2);
        assert_string_equal(p.messages[0], "journal reachable again; 1 could not be written anywhere");
        assert_string_equal(p.messages[1], "y");
        alert_free(a);
        capture_done(&p);

        /* Only a "fallback" given: it is the sink, nothing to announce. */
        assert_int_equal(alert_new((struct alert_sink){}, capture_sink(&p), LOG_INFO, &a), 0);
        emit_text(a, LOG_ERR, "z", 0);
        assert_int_equal(p.n, 1);
        assert_string_equal(p.messages[0], "z");
        alert_free(a);
        capture_done(&p);
        assert_null(alert_free(NULL));
        assert_int_equal(alert_lost(NULL), 0);
}

static void test_min_priority(void **state) {
        struct capture p = {};
        struct alert *a;

        assert_int_equal(alert_new(capture_sink(&p), (struct alert_sink){}, LOG_INFO, &a), 0);
        emit_text(a, LOG_DEBUG, "debug", 0);
        emit_text(a, LOG_INFO, "info", 0);
        emit_text(a, LOG_ERR, "err", 0);
        alert_log(a, LOG_DEBUG, NULL, "debug %d", 1);
        alert_log(a, LOG_NOTICE, NULL, "notice %d", 2);
        assert_int_equal(p.calls, 3);
        assert_int_equal(p.n, 3);
        assert_string_equal(p.messages[0], "info");
        assert_string_equal(p.messages[1], "err");
        assert_string_equal(p.messages[2], "notice 2");
        alert_free(a);
        capture_done(&p);

        assert_int_equal(alert_new(capture_sink(&p), (struct alert_sink){}, LOG_DEBUG, &a), 0);
        alert_log(a, LOG_DEBUG, NULL, "debug %s", "on");
        assert_int_equal(p.n, 1);
        assert_string_equal(p.messages[0], "debug on");
        assert_int_equal(p.priorities[0], LOG_DEBUG);
        alert_free(a);
        capture_done(&p);

        /* An alert is filtered the same way (a LOG_ERR-only journal would drop warnings). */
        {
                struct cw_fixture fx;
                struct alert_entry e;

                cw_setup(&fx, POLICY_CLOSE_WAIT, POLICY_RAISE);
                assert_int_equal(alert_new(capture_sink(&p), (struct alert_sink){}, LOG_ERR, &a), 0);
                assert_int_equal(alert_format_event(&fx.ev, &e), 0);
                assert_int_equal(alert_emit(a, &e), 0);
                assert_int_equal(p.calls, 0);
                alert_entry_done(&e);
                alert_free(a);
        }
}

/* alert_log keeps long messages whole and passes the message id. */
static void test_alert_log(void **state) {
        struct capture p = {};
        struct alert *a;
        char *big = malloc(3001);

        assert_non_null(big);
        memset(big, 'x', 3000);
        big[3000] = '\0';
        assert_int_equal(alert_new(capture_sink(&p), (struct alert_sink){}, LOG_INFO, &a), 0);
        alert_log(a, LOG_WARNING, ALERT_MID_DEGRADED, "long: %s end", big);
        alert_log(a, LOG_INFO, NULL, "comm \"%s\"", "bad\x1b");
        assert_int_equal(p.n, 2);
        assert_int_equal(strlen(p.messages[0]), 3000 + strlen("long:  end"));
        assert_true(strncmp(p.messages[0], "long: xxx", 9) == 0);
        assert_string_equal(p.messages[1], "comm \"bad\\x1b\"");
        alert_log(NULL, LOG_ERR, NULL, "ignored %d", 1);
        alert_free(a);
        capture_done(&p);
        free(big);
}

static void test_stream_sink(void **state) {
        struct alert_entry e;
        struct alert_sink s;
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        assert_int_equal(alert_format_message(LOG_WARNING, ALERT_MID_DEGRADED, "hello world", &e), 0);

        f = open_memstream(&buf, &size);
        assert_non_null(f);
        s = alert_sink_stream(f, true);
        assert_int_equal(s.write(s.userdata, &e), 0);
        s = alert_sink_stream(f, false);
        assert_int_equal(s.write(s.userdata, &e), 0);
        /* Flushed per line: visible without fclose(). */
        assert_string_equal(buf, "<4>hello world\nclosewaitd: hello world\n");
        assert_int_equal(fclose(f), 0);
        free(buf);

        /* A stream that cannot be written: -EIO. */
        {
                char ro[16] = "";
                FILE *r = fmemopen(ro, sizeof(ro), "r");

                assert_non_null(r);
                s = alert_sink_stream(r, false);
                assert_int_equal(s.write(s.userdata, &e), -EIO);
                (void) fclose(r);
        }
        alert_entry_done(&e);
}

/* The whole path as the daemon wires it when journald is down: the stream gets the switch line,
 * then the entry, both as lines systemd would parse. */
static void test_stream_fallback_lines(void **state) {
        struct capture p = { .fail = -ENOENT };
        struct alert *a;
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(f);
        assert_int_equal(alert_new(capture_sink(&p), alert_sink_stream(f, true), LOG_INFO, &a), 0);
        alert_log(a, LOG_ERR, NULL, "scan failed: %s", "boom");
        alert_log(a, LOG_INFO, NULL, "again");
        assert_string_equal(buf, "<4>journal unreachable (No such file or directory), logging to stderr\n"
                                 "<3>scan failed: boom\n"
                                 "<6>again\n");
        alert_free(a);
        assert_int_equal(fclose(f), 0);
        free(buf);
}

/* With no journald listening, the journal sink fails with -errno instead of blocking or crashing.
 * Skipped when a journald is there: a unit test does not write to the host's journal. */
static void test_journal_sink_down(void **state) {
        struct alert_entry e;
        struct alert_sink s = alert_sink_journal();
        int r;

        if (access("/run/systemd/journal/socket", F_OK) == 0)
                skip();
        assert_int_equal(alert_format_message(LOG_INFO, NULL, "test", &e), 0);
        r = s.write(s.userdata, &e);
        assert_true(r < 0);
        assert_true(r == -ENOENT || r == -ECONNREFUSED);
        alert_entry_done(&e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_close_wait_raise_count),
                cmocka_unit_test(test_container_fields),
                cmocka_unit_test(test_close_wait_raise_age),
                cmocka_unit_test(test_close_wait_reading_wording),
                cmocka_unit_test(test_close_wait_repeat),
                cmocka_unit_test(test_close_wait_resolve),
                cmocka_unit_test(test_peers_grouped),
                cmocka_unit_test(test_unlimited_fds),
                cmocka_unit_test(test_exe_when_useful),
                cmocka_unit_test(test_hostile_strings),
                cmocka_unit_test(test_accept_backlog),
                cmocka_unit_test(test_time_wait_server),
                cmocka_unit_test(test_time_wait_client),
                cmocka_unit_test(test_fd_pressure),
                cmocka_unit_test(test_bad_event),
                cmocka_unit_test(test_suppressed),
                cmocka_unit_test(test_format_message),
                cmocka_unit_test(test_fallback),
                cmocka_unit_test(test_no_fallback),
                cmocka_unit_test(test_min_priority),
                cmocka_unit_test(test_alert_log),
                cmocka_unit_test(test_stream_sink),
                cmocka_unit_test(test_stream_fallback_lines),
                cmocka_unit_test(test_journal_sink_down),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
