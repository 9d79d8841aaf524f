/* Unit tests of strutil: escaping of process-controlled strings, JSON string output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "strutil.h"

struct escape_case {
        const char *in;
        size_t len;
        const char *out;
};

#define CASE(s, o)                                                                                                     \
        { s, sizeof(s) - 1, o }

static const struct escape_case escape_cases[] = {
        CASE("nginx", "nginx"),
        CASE("", ""),
        CASE("a b", "a b"),
        CASE("back\\slash", "back\\\\slash"),
        CASE("\x1b[31mred", "\\x1b[31mred"),
        CASE("line\nforged", "line\\x0aforged"),
        CASE("tab\there", "tab\\x09here"),
        CASE("del\x7f", "del\\x7f"),
        CASE("%n%s%x", "%n%s%x"),
        CASE("nul\0byte", "nul\\x00byte"),
        CASE("w\xc3\xb6rker", "w\xc3\xb6rker"),       /* valid UTF-8 is kept */
        CASE("\xe2\x82\xac", "\xe2\x82\xac"),         /* euro sign */
        CASE("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"), /* 4-byte sequence */
        CASE("\xff\xfe", "\\xff\\xfe"),               /* invalid bytes */
        CASE("\xc3", "\\xc3"),                        /* truncated sequence */
        CASE("\xc0\xaf", "\\xc0\\xaf"),               /* overlong '/' */
        CASE("\xed\xa0\x80", "\\xed\\xa0\\x80"),      /* surrogate */
        CASE("\xc2\x9b"
             "2J",
             "\\xc2\\x9b2J"), /* C1 CSI */
        CASE("a\xe2\x80\xae"
             "evil",
             "a\\xe2\\x80\\xae"
             "evil"),                                     /* right-to-left override */
        CASE("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"), /* above U+10FFFF */
        CASE("alm\xd8\x9cx", "alm\\xd8\\x9cx"),           /* U+061C Arabic letter mark */
        CASE("a\xe2\x80\xa8"
             "b",
             "a\\xe2\\x80\\xa8"
             "b"), /* U+2028 line separator */
};

static void test_escape_table(void **state) {
        (void) state;
        for (size_t i = 0; i < sizeof(escape_cases) / sizeof(escape_cases[0]); i++) {
                char *out = str_escape(escape_cases[i].in, escape_cases[i].len);

                assert_non_null(out);
                if (strcmp(out, escape_cases[i].out) != 0)
                        fail_msg("case %zu: got \"%s\", want \"%s\"", i, out, escape_cases[i].out);
                free(out);
        }
}

/* Every byte value alone: the output never holds a control byte. */
static void test_escape_all_bytes(void **state) {
        (void) state;
        for (int b = 0; b < 256; b++) {
                char in = (char) b, *out = str_escape(&in, 1);

                assert_non_null(out);
                for (const unsigned char *p = (const unsigned char *) out; *p; p++)
                        assert_true(*p >= 0x20 && *p != 0x7f);
                if (b >= 0x20 && b < 0x7f && b != '\\')
                        assert_int_equal(strlen(out), 1);
                else
                        assert_int_equal(strlen(out), b == '\\' ? 2 : 4);
                free(out);
        }
}

static char *json_of(const char *s) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(f);
        json_put_string(f, s);
        assert_int_equal(fclose(f), 0);
        return buf;
}

static void test_json_string(void **state) {
        static const struct {
                const char *in, *out;
        } cases[] = {
                { "plain", "\"plain\"" },        { "q\"uote", "\"q\\\"uote\"" },
                { "back\\", "\"back\\\\\"" },    { "\n\x01", "\"\\u000a\\u0001\"" },
                { "\x7f", "\"\\u007f\"" },       { "w\xc3\xb6rker", "\"w\xc3\xb6rker\"" },
                { "bad\xff", "\"bad\\ufffd\"" }, { "", "\"\"" },
        };

        (void) state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *out = json_of(cases[i].in);

                if (strcmp(out, cases[i].out) != 0)
                        fail_msg("case %zu: got %s, want %s", i, out, cases[i].out);
                free(out);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_escape_table),
                cmocka_unit_test(test_escape_all_bytes),
                cmocka_unit_test(test_json_string),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
