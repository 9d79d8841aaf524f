/* strutil: escaping of process-controlled strings.
 *
 * comm is any 15 bytes but NUL and exe is any path: both may carry ANSI escapes, newlines that
 * would forge a second log line, or invalid UTF-8 that breaks JSON parsers. Everything that is not
 * plainly printable is turned into \xNN, so the escaped text is ASCII plus valid UTF-8 only. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "strutil.h"

/* Length of the valid UTF-8 sequence at s (at most len bytes), 0 if invalid. Rejects overlong
 * forms, surrogates and code points above U+10FFFF. *cp receives the code point. */
static size_t utf8_sequence(const unsigned char *s, size_t len, uint32_t *cp) {
        size_t n;
        uint32_t c, min;

        if (s[0] < 0x80) {
                *cp = s[0];
                return 1;
        }
        if ((s[0] & 0xe0) == 0xc0) {
                n = 2;
                c = s[0] & 0x1f;
                min = 0x80;
        } else if ((s[0] & 0xf0) == 0xe0) {
                n = 3;
                c = s[0] & 0x0f;
                min = 0x800;
        } else if ((s[0] & 0xf8) == 0xf0) {
                n = 4;
                c = s[0] & 0x07;
                min = 0x10000;
        } else
                return 0;

        if (len < n)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                c = (c << 6) | (s[i] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                return 0;
        *cp = c;
        return n;
}

/* Code points that are valid but change how a terminal or a viewer shows the text around them. */
static bool unsafe_codepoint(uint32_t c) {
        return (c >= 0x80 && c <= 0x9f) ||     /* C1 controls (0x9b is a CSI on some terminals) */
               c == 0x61c ||                   /* Arabic letter mark, a direction mark */
               (c >= 0x200b && c <= 0x200f) || /* zero-width and direction marks */
               c == 0x2028 || c == 0x2029 ||   /* line and paragraph separators: new lines to some */
               (c >= 0x202a && c <= 0x202e) || /* bidirectional embeddings and overrides */
               (c >= 0x2066 && c <= 0x2069) || /* bidirectional isolates */
               c == 0xfeff;                    /* zero-width no-break space */
}

char *str_escape(const char *in, size_t len) {
        static const char hex[] = "0123456789abcdef";
        const unsigned char *s = (const unsigned char *) in;
        char *out, *p;

        /* Worst case: every byte becomes \xNN. */
        out = malloc(len * 4 + 1);
        if (!out)
                return NULL;

        p = out;
        for (size_t i = 0; i < len;) {
                uint32_t cp;
                size_t n;

                if (s[i] == '\\') {
                        *p++ = '\\';
                        *p++ = '\\';
                        i++;
                        continue;
                }
                if (s[i] >= 0x20 && s[i] < 0x7f) {
                        *p++ = (char) s[i++];
                        continue;
                }
                n = s[i] >= 0x80 ? utf8_sequence(s + i, len - i, &cp) : 0;
                if (n > 0 && !unsafe_codepoint(cp)) {
                        for (size_t k = 0; k < n; k++)
                                *p++ = (char) s[i + k];
                        i += n;
                        continue;
                }
                *p++ = '\\';
                *p++ = 'x';
                *p++ = hex[s[i] >> 4];
                *p++ = hex[s[i] & 0xf];
                i++;
        }
        *p = '\0';
        return out;
}

void json_put_string(FILE *f, const char *s) {
        const unsigned char *u = (const unsigned char *) s;
        size_t len = 0;

        while (u[len])
                len++;

        fputc('"', f);
        for (size_t i = 0; i < len;) {
                uint32_t cp;
                size_t n;

                if (u[i] == '"' || u[i] == '\\') {
                        fputc('\\', f);
                        fputc(u[i++], f);
                } else if (u[i] < 0x20 || u[i] == 0x7f) {
                        fprintf(f, "\\u%04x", u[i++]);
                } else if (u[i] < 0x80) {
                        fputc(u[i++], f);
                } else if ((n = utf8_sequence(u + i, len - i, &cp)) > 0) {
                        fwrite(u + i, 1, n, f);
                        i += n;
                } else {
                        fputs("\\ufffd", f);
                        i++;
                }
        }
        fputc('"', f);
}

size_t str_utf8_char(const char *s, size_t len) {
        uint32_t cp;

        return len > 0 ? utf8_sequence((const unsigned char *) s, len, &cp) : 0;
}
