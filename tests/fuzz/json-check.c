/* json-check: a strict JSON validator and text checks for the fuzz targets. See json-check.h.
 *
 * Small on purpose: recursive descent over bytes, no allocation except for decoded strings, a
 * depth limit far above what closewaitd nests (4) so that a broken writer cannot run the stack
 * out. */
#include "json-check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 64

size_t utf8_sequence_length(const unsigned char *s, size_t len, uint32_t *cp) {
        uint32_t c, min;
        size_t n;

        if (len == 0)
                return 0;
        if (s[0] < 0x80) {
                *cp = s[0];
                return 1;
        }
        if (s[0] >= 0xc2 && s[0] <= 0xdf) {
                n = 2;
                c = s[0] & 0x1fu;
                min = 0x80;
        } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
                n = 3;
                c = s[0] & 0x0fu;
                min = 0x800;
        } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                n = 4;
                c = s[0] & 0x07u;
                min = 0x10000;
        } else
                return 0;
        if (len < n)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if (s[i] < 0x80 || s[i] > 0xbf)
                        return 0;
                c = c << 6 | (s[i] & 0x3fu);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                return 0;
        *cp = c;
        return n;
}

struct json {
        const unsigned char *p, *end;
        unsigned depth;
};

static bool json_value(struct json *j);

static void json_ws(struct json *j) {
        while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
                j->p++;
}

static bool json_literal(struct json *j, const char *word) {
        size_t n = strlen(word);

        if ((size_t) (j->end - j->p) < n || memcmp(j->p, word, n) != 0)
                return false;
        j->p += n;
        return true;
}

static bool is_digit(unsigned char c) {
        return c >= '0' && c <= '9';
}

static bool json_digits(struct json *j) {
        const unsigned char *start = j->p;

        while (j->p < j->end && is_digit(*j->p))
                j->p++;
        return j->p > start;
}

static bool json_number(struct json *j) {
        if (j->p < j->end && *j->p == '-')
                j->p++;
        if (j->p < j->end && *j->p == '0')
                j->p++;
        else if (j->p >= j->end || !is_digit(*j->p) || !json_digits(j))
                return false;
        if (j->p < j->end && *j->p == '.') {
                j->p++;
                if (!json_digits(j))
                        return false;
        }
        if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
                j->p++;
                if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
                        j->p++;
                if (!json_digits(j))
                        return false;
        }
        return true;
}

static int hex_value(unsigned char c) {
        if (is_digit(c))
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* The 4 hex digits after "\u". */
static bool json_hex4(struct json *j, uint32_t *ret) {
        uint32_t v = 0;

        if (j->end - j->p < 4)
                return false;
        for (int i = 0; i < 4; i++) {
                int h = hex_value(j->p[i]);

                if (h < 0)
                        return false;
                v = v << 4 | (uint32_t) h;
        }
        j->p += 4;
        *ret = v;
        return true;
}

static size_t utf8_put(uint32_t cp, unsigned char *out) {
        if (cp < 0x80) {
                out[0] = (unsigned char) cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = (unsigned char) (0xc0 | cp >> 6);
                out[1] = (unsigned char) (0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                out[0] = (unsigned char) (0xe0 | cp >> 12);
                out[1] = (unsigned char) (0x80 | ((cp >> 6) & 0x3f));
                out[2] = (unsigned char) (0x80 | (cp & 0x3f));
                return 3;
        }
        out[0] = (unsigned char) (0xf0 | cp >> 18);
        out[1] = (unsigned char) (0x80 | ((cp >> 12) & 0x3f));
        out[2] = (unsigned char) (0x80 | ((cp >> 6) & 0x3f));
        out[3] = (unsigned char) (0x80 | (cp & 0x3f));
        return 4;
}

/* A string literal at j->p; its UTF-8 value is written to out (room for as many bytes as the
 * literal has: decoding never grows a string) when out is not NULL. */
static bool json_string(struct json *j, unsigned char *out, size_t *out_len) {
        size_t n = 0;

        if (j->p >= j->end || *j->p != '"')
                return false;
        j->p++;
        for (;;) {
                uint32_t cp;
                size_t k;

                if (j->p >= j->end)
                        return false;
                if (*j->p == '"') {
                        j->p++;
                        break;
                }
                if (*j->p < 0x20)
                        return false;
                if (*j->p == '\\') {
                        static const char simple[] = "\"\\/bfnrt", value[] = "\"\\/\b\f\n\r\t";
                        const char *e;

                        j->p++;
                        if (j->p >= j->end)
                                return false;
                        if (*j->p != 'u') {
                                e = memchr(simple, *j->p, sizeof(simple) - 1);
                                if (!e)
                                        return false;
                                if (out)
                                        out[n] = (unsigned char) value[e - simple];
                                n++;
                                j->p++;
                                continue;
                        }
                        j->p++;
                        if (!json_hex4(j, &cp))
                                return false;
                        if (cp >= 0xdc00 && cp <= 0xdfff)
                                return false; /* a low surrogate first */
                        if (cp >= 0xd800 && cp <= 0xdbff) {
                                uint32_t low;

                                if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
                                        return false;
                                j->p += 2;
                                if (!json_hex4(j, &low) || low < 0xdc00 || low > 0xdfff)
                                        return false;
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                        }
                        if (out)
                                n += utf8_put(cp, out + n);
                        else
                                n += utf8_put(cp, (unsigned char[4]){ 0 });
                        continue;
                }
                k = utf8_sequence_length(j->p, (size_t) (j->end - j->p), &cp);
                if (k == 0)
                        return false;
                if (out)
                        memcpy(out + n, j->p, k);
                n += k;
                j->p += k;
        }
        if (out_len)
                *out_len = n;
        return true;
}

/* NOLINTNEXTLINE(misc-no-recursion): nesting is bounded by JSON_MAX_DEPTH */
static bool json_members(struct json *j, char close, bool object) {
        json_ws(j);
        if (j->p < j->end && *j->p == (unsigned char) close) {
                j->p++;
                return true;
        }
        for (;;) {
                json_ws(j);
                if (object) {
                        if (!json_string(j, NULL, NULL))
                                return false;
                        json_ws(j);
                        if (j->p >= j->end || *j->p != ':')
                                return false;
                        j->p++;
                        json_ws(j);
                }
                if (!json_value(j))
                        return false;
                json_ws(j);
                if (j->p >= j->end)
                        return false;
                if (*j->p == (unsigned char) close) {
                        j->p++;
                        return true;
                }
                if (*j->p != ',')
                        return false;
                j->p++;
        }
}

/* NOLINTNEXTLINE(misc-no-recursion): nesting is bounded by JSON_MAX_DEPTH */
static bool json_value(struct json *j) {
        bool ok, object;

        if (j->p >= j->end)
                return false;
        switch (*j->p) {
        case '{':
        case '[':
                object = *j->p == '{';
                if (++j->depth > JSON_MAX_DEPTH)
                        return false;
                j->p++;
                ok = json_members(j, object ? '}' : ']', object);
                j->depth--;
                return ok;
        case '"':
                return json_string(j, NULL, NULL);
        case 't':
                return json_literal(j, "true");
        case 'f':
                return json_literal(j, "false");
        case 'n':
                return json_literal(j, "null");
        default:
                return json_number(j);
        }
}

bool json_check(const char *buf, size_t len) {
        struct json j = { (const unsigned char *) buf, (const unsigned char *) buf + len, 0 };

        json_ws(&j);
        if (!json_value(&j))
                return false;
        json_ws(&j);
        return j.p == j.end;
}

int json_string_decode(const char *buf, size_t len, char **ret, size_t *ret_len) {
        struct json j = { (const unsigned char *) buf, (const unsigned char *) buf + len, 0 };
        unsigned char *out;
        size_t n;

        out = malloc(len + 1);
        if (!out)
                return -ENOMEM;
        if (!json_string(&j, out, &n) || j.p != j.end) {
                free(out);
                return -EINVAL;
        }
        out[n] = '\0';
        *ret = (char *) out;
        *ret_len = n;
        return 0;
}

char *utf8_replace_invalid(const char *s, size_t len, size_t *ret_len) {
        const unsigned char *u = (const unsigned char *) s;
        char *out = malloc(len * 3 + 1);
        size_t n = 0;

        if (!out)
                return NULL;
        for (size_t i = 0; i < len;) {
                uint32_t cp;
                size_t k = utf8_sequence_length(u + i, len - i, &cp);

                if (k > 0) {
                        memcpy(out + n, u + i, k);
                        n += k;
                        i += k;
                } else {
                        memcpy(out + n, "\xef\xbf\xbd", 3);
                        n += 3;
                        i++;
                }
        }
        out[n] = '\0';
        *ret_len = n;
        return out;
}

static bool codepoint_is_unsafe(uint32_t cp) {
        return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x200b && cp <= 0x200f) ||
               (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

bool text_is_safe(const char *s, size_t len) {
        const unsigned char *u = (const unsigned char *) s;

        for (size_t i = 0; i < len;) {
                uint32_t cp;
                size_t k = utf8_sequence_length(u + i, len - i, &cp);

                if (k == 0 || codepoint_is_unsafe(cp))
                        return false;
                i += k;
        }
        return true;
}

int text_unescape(const char *s, char **ret, size_t *ret_len) {
        size_t len = strlen(s), n = 0;
        char *out = malloc(len + 1);

        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < len;) {
                int hi, lo;

                if (s[i] != '\\') {
                        out[n++] = s[i++];
                        continue;
                }
                if (i + 1 < len && s[i + 1] == '\\') {
                        out[n++] = '\\';
                        i += 2;
                        continue;
                }
                if (i + 3 < len && s[i + 1] == 'x' && (hi = hex_value((unsigned char) s[i + 2])) >= 0 &&
                    (lo = hex_value((unsigned char) s[i + 3])) >= 0) {
                        out[n++] = (char) (hi << 4 | lo);
                        i += 4;
                        continue;
                }
                free(out);
                return -EINVAL;
        }
        out[n] = '\0';
        *ret = out;
        *ret_len = n;
        return 0;
}
