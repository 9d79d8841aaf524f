/* strutil: escaping of strings that other processes control (comm, exe) before they reach a
 * terminal, the journal or JSON. */
#pragma once

#include <stddef.h>
#include <stdio.h>

/* Escape len bytes of in for display. Printable ASCII is kept, a backslash becomes "\\", valid
 * UTF-8 is kept except C1 controls and bidirectional overrides; every other byte (controls, DEL,
 * ANSI escapes, invalid UTF-8) becomes "\xNN". NUL bytes inside in are escaped too.
 * Returns a new NUL-terminated string (caller frees), or NULL on -ENOMEM. */
char *str_escape(const char *in, size_t len);

/* Write s to f as a JSON string literal, quotes included. Control bytes become \u00XX and bytes
 * that are not valid UTF-8 become \ufffd, so the output always parses. */
void json_put_string(FILE *f, const char *s);

/* The length of the UTF-8 character at the start of s (at most len bytes): 1 for ASCII, 2 to 4
 * for a valid multi-byte sequence, 0 when it is not valid UTF-8 (a stray or cut-short sequence,
 * an overlong form, a surrogate, above U+10FFFF) or len is 0. */
size_t str_utf8_char(const char *s, size_t len);
