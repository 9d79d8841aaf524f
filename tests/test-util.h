/* Helpers shared by the unit tests. Include after <cmocka.h>. */
#pragma once

#include <arpa/inet.h>
#include <string.h>

#include "diag.h"

/* An endpoint from text: IPv6 when ip has a colon, else IPv4. Fails the test on bad text. */
static inline struct diag_addr test_addr(const char *ip, uint16_t port) {
        struct diag_addr a = { .port = port };

        if (strchr(ip, ':')) {
                a.family = AF_INET6;
                assert_int_equal(inet_pton(AF_INET6, ip, &a.v6), 1);
        } else {
                a.family = AF_INET;
                assert_int_equal(inet_pton(AF_INET, ip, &a.v4), 1);
        }
        return a;
}
